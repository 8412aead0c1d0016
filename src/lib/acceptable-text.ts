import { isUtf8 } from 'node:buffer';

/**
 * The one rule for text Tollgate accepts from outside — public requests and admin input alike.
 * PostgreSQL refuses a NUL in text (SQLSTATE 22021) and `\u0000` in jsonb (22P05), and text that is
 * not UTF-8 cannot be stored as sent (it would come back as U+FFFD). Control characters have no
 * place in identifiers, codes, tokens, URIs or names, so they are refused where they enter rather
 * than wherever they would break something further in.
 *
 * C0 controls and DEL are refused; TAB, LF and CR are allowed in request parameters only, since
 * JSON-valued ones (`claims`, RFC 9396 `authorization_details`) may be pretty-printed.
 */
/* eslint-disable no-control-regex -- control characters are what these two look for */
const CONTROL_EXCEPT_WHITESPACE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const ANY_CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
/* eslint-enable no-control-regex */
/** A UTF-16 surrogate without its pair: JSON's `\uD800` escapes can make one; UTF-8 cannot hold it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a decoded request parameter cannot be accepted, or undefined. */
export function unacceptableParameter(value: string): string | undefined {
  if (CONTROL_EXCEPT_WHITESPACE.test(value)) return 'holds a control character';
  if (LONE_SURROGATE.test(value)) return 'is not valid UTF-8';
  return undefined;
}

/** Why a single-line value (an admin field, an identifier) cannot be accepted, or undefined. */
export function unacceptableLine(value: string): string | undefined {
  if (ANY_CONTROL.test(value)) return 'must not contain control characters';
  if (LONE_SURROGATE.test(value)) return 'is not valid UTF-8 (it holds a lone surrogate)';
  return undefined;
}

/** Bytes that are not UTF-8 would be replaced by U+FFFD on decoding: refuse them instead. */
export function isUtf8Text(bytes: Buffer): boolean {
  return isUtf8(bytes);
}

/**
 * Decodes one percent-encoded component (RFC 3986 §2.1; `+` as a space in forms, WHATWG URL
 * "application/x-www-form-urlencoded"). Undefined when the escapes are malformed or the bytes they
 * spell are not UTF-8 — decodeURIComponent refuses both, where querystring.parse would let them
 * through as literal text or U+FFFD.
 */
export function decodeComponent(raw: string, plusIsSpace: boolean): string | undefined {
  const spaced = plusIsSpace && raw.includes('+') ? raw.replace(/\+/g, ' ') : raw;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return undefined;
  }
}
