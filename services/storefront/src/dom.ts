type Child = Node | string | number | null | undefined | false;

/**
 * Makes an element: `h('button', { class: 'buy', onclick }, 'Buy')`. Text is
 * always set as text (never parsed as HTML), so what services answer cannot
 * inject markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | EventListener | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  el.append(
    ...children
      .filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false)
      .map((c) => (typeof c === 'number' ? String(c) : c)),
  );
  return el;
}

/** A section's body, emptied and filled again. */
export function fill(section: string, ...children: Child[]): HTMLElement {
  const body = document.querySelector<HTMLElement>(`#${section} .body`)!;
  body.replaceChildren(
    ...children.filter(
      (c): c is Node | string => c !== null && c !== undefined && c !== false && typeof c !== 'number',
    ),
  );
  return body;
}

/** Runs `tick` now and every `ms`, skipping a round while the last one is still running. */
export function every(ms: number, tick: () => Promise<void> | void): void {
  let busy = false;
  const run = async () => {
    if (busy) return;
    busy = true;
    try {
      await tick();
    } catch (err) {
      console.error(err);
    } finally {
      busy = false;
    }
  };
  void run();
  setInterval(run, ms);
}
