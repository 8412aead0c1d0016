import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/project-root.js';
import { html, type SafeHtml } from './html.js';

/**
 * A views/ file read as a tagged template: the markup between its {{slots}} is the template's
 * literal part, so a page is filled by `html` like any other markup, each slot's text escaped.
 */
interface Template {
  literals: TemplateStringsArray;
  slots: string[];
}

const templates = new Map<string, Template>();

function template(name: string): Template {
  let parsed = templates.get(name);
  if (parsed === undefined) {
    // Split around a capturing group: markup at even indexes, slot names at odd ones.
    const parts = fs.readFileSync(path.join(projectRoot, 'views', `${name}.html`), 'utf8').split(/\{\{(\w+)\}\}/);
    const literals = parts.filter((_, index) => index % 2 === 0);
    parsed = {
      literals: Object.assign(literals, { raw: literals }),
      slots: parts.filter((_, index) => index % 2 === 1),
    };
    templates.set(name, parsed);
  }
  return parsed;
}

function fill(name: string, values: Record<string, string | SafeHtml>): SafeHtml {
  const { literals, slots } = template(name);
  return html(
    literals,
    ...slots.map((slot) => {
      const value = values[slot];
      if (value === undefined) throw new Error(`view value "${slot}" missing`);
      return value;
    }),
  );
}

/** A page: the named view inside views/layout.html. */
export function renderPage(
  view: string,
  title: string,
  assets: string,
  values: Record<string, string | SafeHtml>,
): string {
  return fill('layout', { title, assets, content: fill(view, values) }).toString();
}

export const stylesheet = (): string => fs.readFileSync(path.join(projectRoot, 'views', 'style.css'), 'utf8');
