/** One server-sent event: its `event:` name, its `data:` (lines joined) and the stream's last `id:`. */
export interface SseEvent {
  event: string;
  data: string;
  id: string;
}

/**
 * Splits a text/event-stream into events as chunks arrive (the WHATWG
 * format: fields per line, a blank line ends an event, `:` lines are
 * comments). Feed it chunks; it returns the events each chunk completed.
 */
export class SseParser {
  private buffer = '';
  /** The last event id the stream gave: it carries over to the events after it (WHATWG's "last event ID"). */
  lastEventId = '';

  push(chunk: string): SseEvent[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const events: SseEvent[] = [];
    let end = this.buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\u0000')) this.lastEventId = value;
      }
      if (data.length > 0) events.push({ event, data: data.join('\n'), id: this.lastEventId });
      end = this.buffer.indexOf('\n\n');
    }
    return events;
  }
}
