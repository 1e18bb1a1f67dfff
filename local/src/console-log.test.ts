import { describe, expect, test } from '@jest/globals';
import { consoleFilter, consoleOptions, prettyLine } from './console-log.ts';

const pino =
  '{"level":"info","time":"2026-11-29T06:42:01.123Z","service":"order","orderId":"o-1","msg":"order reconciled"}';
const daprInfo = 'time="2026-11-29T06:42:01Z" level=info msg="placement tables updated" app_id=order';
const daprError = 'time="2026-11-29T06:42:01Z" level=error msg="error invoking app" app_id=order';

describe('what npm start prints', () => {
  test('By default, the services’ own lines, and from sidecars and infrastructure only errors', () => {
    const show = consoleFilter(consoleOptions([], false));
    expect(show('order', pino)).toBe(pino);
    expect(show('coupon-2', pino)).toBe(pino);
    const sdk = '2026-11-29T06:42:01.123Z INFO [DurableTask, Worker] Received "Activity Request" work item';
    expect(show('order', sdk)).toBeUndefined();
    expect(
      show('order', '2026-11-29T06:42:01.123Z ERROR [DurableTask, Worker] An error occurred'),
    ).toBeDefined();
    expect(show('order-dapr', daprInfo)).toBeUndefined();
    expect(show('kafka', '[2026-11-29 06:42:01,000] INFO [KafkaServer id=1] started')).toBeUndefined();
    expect(
      show(
        'zipkin',
        '2026-11-29T06:42:01.123Z  INFO [/] 1 --- [main] c.l.a.s.Server : Serving HTTP at /127.0.0.1:9411',
      ),
    ).toBeUndefined();
    expect(show('order-dapr', daprError)).toBe(daprError);
    expect(
      show('postgres', '2026-11-29 06:42:01 UTC [12] FATAL:  the database system is starting up'),
    ).toBeDefined();
  });

  test('With --verbose, everything; with names, only those processes', () => {
    expect(consoleFilter(consoleOptions(['--verbose'], false))('kafka', 'INFO started')).toBe('INFO started');
    const only = consoleFilter(consoleOptions(['order-dapr'], false));
    expect(only('order-dapr', daprInfo)).toBe(daprInfo);
    expect(only('order', pino)).toBeUndefined();
  });

  test('On a terminal, a service’s JSON line reads as time, level, message and its fields', () => {
    expect(prettyLine(pino)).toBe('06:42:01 INFO order reconciled orderId=o-1');
    expect(
      prettyLine('{"level":50,"time":"2026-11-29T06:42:01.123Z","msg":"boom","err":{"message":"x"}}'),
    ).toBe('06:42:01 ERROR boom err={"message":"x"}');
    expect(prettyLine('not json')).toBe('not json');
    expect(consoleFilter(consoleOptions([], true))('order', pino)).toBe(
      '06:42:01 INFO order reconciled orderId=o-1',
    );
  });
});
