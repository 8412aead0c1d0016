import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/project-root.js';
import { escapeHtml } from './html.js';

/** Markup built by code (already escaped); everything else put into a view is escaped. */
export class SafeHtml {
  constructor(readonly html: string) {}
}

const templates = new Map<string, string>();

function template(name: string): string {
  let text = templates.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(projectRoot, 'views', `${name}.html`), 'utf8');
    templates.set(name, text);
  }
  return text;
}

function fill(text: string, values: Record<string, string | SafeHtml>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`view value "${key}" missing`);
    return value instanceof SafeHtml ? value.html : escapeHtml(value);
  });
}

/** A page: the named view inside views/layout.html. */
export function renderPage(view: string, title: string, assets: string, values: Record<string, string | SafeHtml>): string {
  return fill(template('layout'), { title, assets, content: new SafeHtml(fill(template(view), values)) });
}

export const stylesheet = (): string => fs.readFileSync(path.join(projectRoot, 'views', 'style.css'), 'utf8');
