// A store's URL as CloudStack (object_store.url) or the config gives it: never trusted. Userinfo is
// dropped before the URL is shown or used (S3 never takes it, and it is a password), and only http
// and https are ever contacted: `file:///etc/passwd` or `javascript:` must never become a signed
// request carrying the store's keys.

/** The endpoint with any `user:password@` removed; text that is no URL keeps nothing before an `@`. */
export function safeEndpoint(text: string): string {
  try {
    const url = new URL(text);
    // `user:pass@host` parses too, as a URL of scheme "user:": only http(s) URLs are taken apart.
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return text.replace(/[^\s/@]*@/g, '***@');
    if (url.username || url.password) {
      url.username = '';
      url.password = '';
      const shown = url.href;
      return text.endsWith('/') ? shown : shown.replace(/\/$/, '');
    }
    return text;
  } catch {
    return text.replace(/[^\s/@]*@/g, '***@');
  }
}

/** Why csdrift will not contact this endpoint, or null when it is an http(s) URL. */
export function endpointProblem(endpoint: string): string | null {
  if (!endpoint.trim()) return 'is empty';
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `is a ${url.protocol.replace(/:$/, '')}: URL; only http and https stores are contacted`;
  if (!url.hostname) return 'names no host';
  return null;
}
