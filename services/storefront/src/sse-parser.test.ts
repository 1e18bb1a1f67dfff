import { describe, expect, test } from '@jest/globals';
import { SseParser } from './sse-parser.ts';

describe('reading a server-sent event stream', () => {
  test('When events arrive split across chunks, with comments and CRLF, then each is read once whole', () => {
    const parser = new SseParser();
    expect(parser.push(': hello\r\nevent: order\r\ndata: {"status":')).toEqual([]);
    expect(parser.push('"PENDING"}\r\n\r\nevent: order\ndata: {"status":"COMPLETED"}\n\n')).toEqual([
      { event: 'order', data: '{"status":"PENDING"}' },
      { event: 'order', data: '{"status":"COMPLETED"}' },
    ]);
  });

  test('When an event has several data lines or no name, then they are joined and it is a message', () => {
    expect(new SseParser().push('data: a\ndata: b\n\n')).toEqual([{ event: 'message', data: 'a\nb' }]);
  });
});
