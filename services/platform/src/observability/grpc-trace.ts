import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { currentTraceparent } from './tracing.ts';

/**
 * A gRPC client interceptor that sends the active trace as `traceparent`
 * metadata, which daprd's API reads (its gRPC tracing middleware). Given to
 * the workflow client (`grpcOptions.interceptors`), it makes the sidecar's
 * workflow spans — the instance's creation, its run, each activity and timer —
 * children of the request that scheduled it: the JS SDK sends no trace
 * context of its own.
 */
export const traceparentInterceptor: Interceptor = (options, nextCall) => {
  const traceparent = currentTraceparent();
  return new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      if (traceparent) metadata.set('traceparent', traceparent);
      next(metadata, listener);
    },
  });
};
