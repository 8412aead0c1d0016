import { html, joinHtml, type SafeHtml } from '../../web/html.js';
import type { ScopeLine } from './scope-words.js';

/** The <li> lines of a consent or device-confirmation page's scope list. */
export function scopeList(lines: ScopeLine[]): SafeHtml {
  return joinHtml(
    lines.map(
      (line) =>
        html` <li>${line.text}${line.detail ? html`<span class="detail"><code>${line.detail}</code></span>` : ''}</li>`,
    ),
    '\n',
  );
}
