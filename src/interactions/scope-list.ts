import { escapeHtml } from '../http/html.js';
import { SafeHtml } from '../http/views.js';
import type { ScopeLine } from './scope-words.js';

/** The <li> lines of a consent or device-confirmation page's scope list. */
export function scopeList(lines: ScopeLine[]): SafeHtml {
  return new SafeHtml(lines
    .map((line) => `      <li>${escapeHtml(line.text)}${line.detail ? `<span class="detail"><code>${escapeHtml(line.detail)}</code></span>` : ''}</li>`)
    .join('\n'));
}
