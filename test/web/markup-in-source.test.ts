import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFilesOfSrc } from '../helpers/source-files.js';

/**
 * Markup is written in views/ or in `html` tagged templates (src/web/html.ts), which escape what
 * goes into them; a tag in any other string would be markup put together by concatenation, where
 * one forgotten escape is an injection.
 */
const TAG =
  /<\/?(?:!doctype|a|b|body|br|button|code|div|em|form|h[1-6]|head|html|i|img|input|label|li|link|main|meta|noscript|ol|option|p|pre|script|select|span|strong|style|table|td|textarea|th|title|tr|ul)(?=[\s/>])/i;

/** The tag of the tagged template this literal is part of (`html` in html`<p>…`), if any. */
function taggedWith(node: ts.Node): string | undefined {
  // A template's head hangs from the template, its later parts from a span of it.
  const template = ts.isTemplateHead(node)
    ? node.parent
    : ts.isTemplateMiddle(node) || ts.isTemplateTail(node)
      ? node.parent.parent
      : node;
  const parent = template.parent;
  return parent && ts.isTaggedTemplateExpression(parent) ? parent.tag.getText() : undefined;
}

function stringsWithTags(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    const isText =
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node);
    if (isText && TAG.test(node.text) && taggedWith(node) !== 'html') {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push(`${file}:${line + 1}: ${node.getText(source).slice(0, 80)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('markup in TypeScript', () => {
  it('is written only in html tagged templates: no string literal holds a tag', () => {
    const offenders = sourceFilesOfSrc()
      .filter(({ file }) => file !== 'web/html.ts')
      .flatMap(({ file, text }) => stringsWithTags(file, text));
    expect(offenders).toEqual([]);
  });

  it('is taken ready-made only from oidc-provider, in the one page hook that hands it over', () => {
    const users = sourceFilesOfSrc()
      .filter(({ file, text }) => file !== 'web/html.ts' && /\btrustedHtml\(/.test(text))
      .map(({ file }) => file);
    expect(users).toEqual(['pages/interactions/provider-pages.ts']);
  });

  it('the check sees a tag in a plain string, a template and a template tagged otherwise', () => {
    expect(stringsWithTags('a.ts', "const a = '<p>' + text + '</p>';")).toHaveLength(2);
    expect(stringsWithTags('b.ts', 'const b = `  <li>${text}</li>`;')).toHaveLength(2);
    expect(stringsWithTags('c.ts', 'const c = css`<span ${x}>`;')).toHaveLength(1);
    expect(stringsWithTags('d.ts', 'const d = html`<li>${text}<span class="x">${y}</span></li>`;')).toEqual([]);
    expect(stringsWithTags('e.ts', "const e = 'usage: tollgate <group>'; // <p> in a comment")).toEqual([]);
  });
});
