// Set by SafeHtml's static block, the one place its private constructor can be called from.
let mint: (markup: string) => SafeHtml;

/**
 * Markup, as opposed to text. Only this module makes one: the `html` tag escapes every value put
 * into it unless that value is markup already, and `trustedHtml` takes markup Tollgate did not
 * write (oidc-provider's own forms). So text reaches a page escaped or not at all, and no markup
 * is put together by string concatenation, where one forgotten escape is an injection.
 */
export class SafeHtml {
  readonly #markup: string;

  private constructor(markup: string) {
    this.#markup = markup;
  }

  static {
    mint = (markup) => new SafeHtml(markup);
  }

  toString(): string {
    return this.#markup;
  }
}

/** What may go into `html`: text (escaped), or markup (as is; a list of it, one after another). */
export type HtmlValue = string | number | SafeHtml | readonly SafeHtml[];

/**
 * Numeric references for the characters that end text or a quoted attribute value (the backtick
 * too: old browsers took it as an attribute quote), so a value is safe in either place.
 */
function escapeText(text: string): string {
  return text.replace(/[&<>"'`]/g, (char) => `&#${char.charCodeAt(0)};`);
}

function markupOf(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(markupOf).join('');
  return escapeText(String(value));
}

/** A tagged template: its literal parts are markup, every value in it is escaped unless it is SafeHtml. */
export function html(literals: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let markup = literals[0] ?? '';
  for (let i = 0; i < values.length; i++) markup += markupOf(values[i]!) + (literals[i + 1] ?? '');
  return mint(markup);
}

/** Pieces of markup with text between them, as a list is written one item a line. */
export function joinHtml(parts: readonly SafeHtml[], separator: string): SafeHtml {
  return mint(parts.map(markupOf).join(escapeText(separator)));
}

/**
 * Markup that comes ready-made from oidc-provider (the hidden fields of its sign-out form). Never
 * for anything a person or a client could have written.
 */
export function trustedHtml(markup: string): SafeHtml {
  return mint(markup);
}
