import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import { platformError } from 'carotene/model';

/**
 * `host [ ":" port ]` of RFC 9110 §7.2 with RFC 3986's host grammar: an IP literal in
 * brackets, or a non-empty reg-name (IPv4 included). No userinfo (`@`) or path (`/`), and no
 * comma although a reg-name may hold one: a comma is how two Host values look once a proxy
 * joined them into one line.
 */
const AUTHORITY = /^(?:\[([0-9A-Fa-f:.]+)\]|\[v[0-9A-Fa-f]+\.[\w\-.~!$&'()*+;=:]+\]|(?:[\w\-.~!$&'()*+;=]|%[0-9A-Fa-f]{2})+)(?::(\d*))?$/;

/** The part of a reply the check touches. */
interface Reply {
  header(name: string, value: string): unknown;
}

/**
 * Refuses, with 400 MALFORMED_REQUEST and the connection closed after the answer, a request
 * head that RFC 9112 says a server must not act on: no Host in HTTP/1.1, more than one Host,
 * a Host that is not a valid `host[:port]`, or an empty Host where the target is not an
 * absolute URI (§3.2); and an empty `Transfer-Encoding`, whose framing is ambiguous (§6.1).
 * Such a request may be one a proxy in front framed differently (request smuggling), so the
 * connection is not reused.
 *
 * ```ts
 * checkRequestHead(request.raw, reply);  // throws a CaroteneError
 * ```
 */
export function checkRequestHead(req: IncomingMessage, reply: Reply): void {
  const raw = req.rawHeaders;
  let hosts = 0;
  let host = '';
  let emptyTransferEncoding = false;
  // names compared by length first: most header lines are neither
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host = raw[i + 1]!;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding' && raw[i + 1]!.trim() === '') {
      emptyTransferEncoding = true;
    }
  }
  const problem = emptyTransferEncoding
    ? "Transfer-Encoding header is empty; send 'chunked' or leave the header out"
    : hosts === 0
      ? req.httpVersion === '1.1' && 'HTTP/1.1 request has no Host header; send the host name it is for'
      : hosts > 1
        ? `Request has ${hosts} Host headers; send exactly one`
        : hostProblem(host, req.url ?? '');
  if (!problem) return;
  reply.header('connection', 'close');
  throw platformError('MALFORMED_REQUEST', problem, { service: 'gateway' });
}

function hostProblem(host: string, target: string): string | undefined {
  if (host === '') {
    // an origin server takes the authority of an absolute target, whose Host may be empty
    return target.startsWith('/') || target === '*' ? 'Host header is empty; it may be empty only when the request target is an absolute URI' : undefined;
  }
  const match = AUTHORITY.exec(host);
  const valid = match !== null && (match[1] === undefined || isIPv6(match[1])) && (match[2] === undefined || match[2] === '' || Number(match[2]) <= 65_535);
  return valid ? undefined : `Host header '${printable(host)}' is not a valid host[:port]; user names, paths and lists are refused`;
}

function printable(value: string): string {
  // echoed from an untrusted client: short and printable
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
