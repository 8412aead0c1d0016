import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { html, joinHtml, trustedHtml, SafeHtml } from '../../src/web/html.js';
import { renderPage } from '../../src/web/views.js';

/** What an HTML parser makes of text or a quoted attribute value: numeric character references decoded. */
function decode(markup: string): string {
  return markup.replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
}

/** The characters that end text or an attribute value, outside a character reference. */
const UNESCAPED = /[<>"'`]|&(?!#\d+;)/;

/** Any text, and text made of the characters (and references) that would break out of markup. */
const text = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '`', '#', '6', '0', ';', '/', 'a', ' ', '=') }),
);

const tags = (markup: string): string[] => markup.match(/<[^>]*>/g) ?? [];

describe('the html tag', () => {
  it('puts any string into text or an attribute value as that text, never as markup', () => {
    fc.assert(
      fc.property(text, (value) => {
        const rendered = html`<p title="${value}">${value}</p>`.toString();
        const open = '<p title="';
        const escaped = rendered.slice(open.length, rendered.indexOf('">'));
        expect(rendered).toBe(`${open}${escaped}">${escaped}</p>`);
        expect(escaped).not.toMatch(UNESCAPED);
        expect(decode(escaped)).toBe(value);
      }),
    );
  });

  it('keeps the markup of nested html as it is and escapes only their values', () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 5 }), fc.integer(), (items, count) => {
        const list = html`<ul data-count="${count}">
          ${items.map((item) => html`<li>${item}</li>`)}
        </ul>`.toString();
        expect(tags(list)).toEqual([`<ul data-count="${count}">`, ...items.flatMap(() => ['<li>', '</li>']), '</ul>']);
        expect(
          list
            .split('<li>')
            .slice(1)
            .map((item) => decode(item.slice(0, item.indexOf('</li>')))),
        ).toEqual(items);
      }),
    );
  });

  it('joins markup with a separator that is text', () => {
    expect(joinHtml([html`<li>a</li>`, html`<li>b</li>`], '\n<br>').toString()).toBe(
      '<li>a</li>\n&#60;br&#62;<li>b</li>',
    );
    expect(joinHtml([], '\n').toString()).toBe('');
  });

  it('takes ready-made markup only when asked by name', () => {
    const form = '<form id="f"><input name="xsrf" value="x"></form>';
    expect(html`${form}`.toString()).toBe(
      '&#60;form id=&#34;f&#34;&#62;&#60;input name=&#34;xsrf&#34; value=&#34;x&#34;&#62;&#60;/form&#62;',
    );
    expect(html`${trustedHtml(form)}`.toString()).toBe(form);
    expect(html`${trustedHtml(form)}`).toBeInstanceOf(SafeHtml);
  });
});

describe('a view filled with values', () => {
  const empty = renderPage('error', '', '', { heading: '', message: '', detail: html`` });

  it('has the tags of its template and nothing else, whatever text goes into it', () => {
    fc.assert(
      fc.property(text, text, text, (title, heading, message) => {
        const page = renderPage('error', title, '/assets', { heading, message, detail: html`` });
        expect(tags(page)).toEqual(
          tags(empty).map((tag) => tag.replace('href="/style.css"', 'href="/assets/style.css"')),
        );
        expect(decode(/<h1>(.*)<\/h1>/s.exec(page)![1]!)).toBe(heading);
        expect(decode(/<p class="lead">(.*)<\/p>/s.exec(page)![1]!)).toBe(message);
      }),
    );
  });

  it('refuses to render with a value missing', () => {
    expect(() => renderPage('error', 't', '', { heading: 'h', message: 'm' })).toThrow('view value "detail" missing');
  });
});
