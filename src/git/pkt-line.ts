// git's pkt-line framing: four hex digits of length (counting themselves), then the payload;
// 0000 (flush), 0001 (delim) and 0002 (response-end, protocol v2) are four bytes, no payload.

export const FLUSH = Buffer.from('0000', 'latin1');
export const DELIM = Buffer.from('0001', 'latin1');

export interface PktLine {
  start: number;
  end: number;
  data: Buffer;
  flush: boolean;
}

/** One pkt-line holding `payload`. */
export function pktLine(payload: string): Buffer {
  const data = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, '0'), 'latin1'), data]);
}

/** The pkt-lines of `body`, or undefined where one is malformed or cut short. */
export function pktLines(body: Buffer): PktLine[] | undefined {
  const lines: PktLine[] = [];
  for (let at = 0; at < body.length; ) {
    if (at + 4 > body.length) return undefined;
    const length = Number.parseInt(body.toString('latin1', at, at + 4), 16);
    if (!Number.isInteger(length) || length === 3 || at + Math.max(length, 4) > body.length) return undefined;
    const end = at + Math.max(length, 4);
    lines.push({ start: at, end, data: body.subarray(at + 4, end), flush: length === 0 });
    at = end;
  }
  return lines;
}
