import { describe, expect, test } from '@jest/globals';
import { SseParser } from './sse-parser.ts';

describe('reading a server-sent event stream', () => {
  test('When events arrive split across chunks, with comments and CRLF, then each is read once whole', () => {
    const parser = new SseParser();
    expect(parser.push(': hello\r\nevent: order\r\ndata: {"status":')).toEqual([]);
    expect(parser.push('"PENDING"}\r\n\r\nevent: order\ndata: {"status":"COMPLETED"}\n\n')).toEqual([
      { event: 'order', data: '{"status":"PENDING"}', id: '' },
      { event: 'order', data: '{"status":"COMPLETED"}', id: '' },
    ]);
  });

  test('When an event has several data lines or no name, then they are joined and it is a message', () => {
    expect(new SseParser().push('data: a\ndata: b\n\n')).toEqual([
      { event: 'message', data: 'a\nb', id: '' },
    ]);
  });

  test('When events carry ids, then each event has the last id given, which carries over until another', () => {
    const parser = new SseParser();
    expect(
      parser.push('id: s1\nevent: order\ndata: 1\n\nevent: order\ndata: 2\n\nid: s3\ndata: 3\n\n'),
    ).toEqual([
      { event: 'order', data: '1', id: 's1' },
      { event: 'order', data: '2', id: 's1' },
      { event: 'message', data: '3', id: 's3' },
    ]);
    expect(parser.lastEventId).toBe('s3');
  });
});
