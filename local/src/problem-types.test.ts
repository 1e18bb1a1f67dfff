/**
 * Every problem type a service can answer with is a valid URI (RFC 3986; a URN
 * of RFC 8141: no spaces), and every refusal the storefront puts in words is a
 * type some service has. The types are read from the services' source, where
 * each is written once: an error class's `slug`, the first argument of the
 * platform's error classes, or the thing a NotFoundError names.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { NotFoundError, PROBLEM_SLUG, problemTypeUri } from '../../services/platform/src/errors/app-error.ts';
import { ROOT } from './paths.ts';

const SERVICES = join(ROOT, 'services');
const sources = readdirSync(SERVICES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .flatMap((service) =>
    readdirSync(join(SERVICES, service, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => ({
        file: `${service}/src/${f}`,
        text: readFileSync(join(SERVICES, service, 'src', f), 'utf8'),
      })),
  );

const STRING = String.raw`\s*(['\`])([^'\`]*)\1`;
const SLUG_SITES = [
  new RegExp(String.raw`\bslug:${STRING}`, 'g'),
  new RegExp(
    String.raw`\b(?:BusinessRuleError|UnauthorizedError|ForbiddenError|refuse|problemTypeUri)\(${STRING}`,
    'g',
  ),
  // A subclass of those three: its constructor's super(slug, ...).
  new RegExp(
    String.raw`extends (?:BusinessRuleError|UnauthorizedError|ForbiddenError) \{[^}]*?super\(${STRING}`,
    'g',
  ),
];

interface Found {
  file: string;
  slug: string;
}

function slugsIn({ file, text }: { file: string; text: string }): Found[] {
  const written = SLUG_SITES.flatMap((site) => [...text.matchAll(site)].map((m) => m[2]!));
  const missing = [...text.matchAll(new RegExp(String.raw`\bNotFoundError\(${STRING}`, 'g'))].map(
    (m) => new NotFoundError(m[2]!, 'x').slug,
  );
  // A slug built at run time (`${what}-not-found`, `http-${status}`) is checked where it is built.
  return [...written, ...missing].filter((slug) => !slug.includes('${')).map((slug) => ({ file, slug }));
}

const found = sources.flatMap(slugsIn);

describe('Problem types', () => {
  test('The scan finds the services’ problem types', () => {
    const slugs = new Set(found.map((f) => f.slug));
    expect(slugs.size).toBeGreaterThan(30);
    for (const known of ['out-of-stock', 'coupon-request-not-found', 'validation-failed', 'payment-declined'])
      expect(slugs.has(known)).toBe(true);
  });

  test('Every problem type is lower-case words and hyphens, a valid URI without spaces', () => {
    const invalid = found.filter(({ slug }) => !PROBLEM_SLUG.test(slug));
    expect(invalid).toEqual([]);
    for (const { slug } of found) expect(new URL(problemTypeUri(slug)).href).toBe(problemTypeUri(slug));
  });

  test('Every refusal the storefront words is a type a service answers with', () => {
    const words = readFileSync(join(SERVICES, 'storefront/src/words.ts'), 'utf8');
    const refusals = words.match(/const REFUSALS[^{]*\{([^}]*)\}/)![1]!;
    const named = [...refusals.matchAll(/'([a-z0-9-]+)':/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(5);
    const slugs = new Set(found.map((f) => f.slug));
    expect(named.filter((slug) => !slugs.has(slug))).toEqual([]);
  });
});
