import sanitizeHtml from 'sanitize-html';

/**
 * Cloud ALM descriptions are rich text (HTML). They are shown sanitised: formatting, lists,
 * tables and http(s)/mailto links survive; scripts, styles, images, event handlers and other
 * URL schemes do not. Links open in a new tab without an opener.
 */
const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    ...sanitizeHtml.defaults.allowedTags.filter((tag) => tag !== 'img'),
    'span',
    'u',
    's',
    'del',
    'ins',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'target'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan'],
    ol: ['start'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow', target: '_blank' }),
  },
};

export function renderDescription(html: string | null): string | null {
  if (html === null || html.trim() === '') return null;
  return sanitizeHtml(html, OPTIONS);
}
