/**
 * The README and docs/ link to each other and into the repo: every relative
 * link must point at a file that exists, and every #anchor at one of its
 * headings (GitHub's rule: lower case, punctuation dropped, spaces to dashes).
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { ROOT } from './paths.ts';

const pages = [
  join(ROOT, 'README.md'),
  ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f)),
];

const anchorOf = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1]!)));
}

function brokenLinks(page: string): string[] {
  const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '');
  const broken: string[] = [];
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target!)) continue;
    const [path, anchor] = target!.split('#') as [string, string | undefined];
    const file = path ? join(dirname(page), path) : page;
    if (!existsSync(file)) broken.push(`${target}: no such file`);
    else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor))
      broken.push(`${target}: no such heading`);
  }
  return broken;
}

describe('the README and docs/', () => {
  test('The README fits on a few screens', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(200);
  });

  test.each(pages.map((p) => [relative(ROOT, p), p]))('Every link of %s leads somewhere', (_, page) => {
    expect(brokenLinks(page)).toEqual([]);
  });
});
