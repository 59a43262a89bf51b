import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { platformError } from 'carotene/model';

/**
 * The whole body of a request, at most `limit` bytes (PAYLOAD_TOO_LARGE beyond), unzipped
 * when it came with `content-encoding: gzip` (as OTLP exporters may send it).
 *
 * ```ts
 * const text = (await readBody(req, 1024 * 1024)).toString('utf8');
 * ```
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw platformError('PAYLOAD_TOO_LARGE', `the body has ${declared} bytes; at most ${limit} are accepted`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw platformError('PAYLOAD_TOO_LARGE', `the body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return body;
  if (encoding !== 'gzip') throw platformError('UNSUPPORTED_MEDIA_TYPE', `content-encoding '${encoding}' is not supported; send gzip or nothing`);
  try {
    const unzipped = gunzipSync(body, { maxOutputLength: limit });
    return unzipped;
  } catch (err) {
    throw platformError(
      (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'PAYLOAD_TOO_LARGE' : 'MALFORMED_REQUEST',
      `the gzip body could not be read: ${(err as Error).message}`,
    );
  }
}
