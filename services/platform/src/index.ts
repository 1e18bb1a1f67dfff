export { type ActorContext, type ActorMethod, type ActorType, actorHostRouter } from './actors/actor-host.ts';
export { createApp } from './app.ts';
export {
  type AccessClaims,
  accessClaimsSchema,
  JWKS_PATH,
  ROLES,
  type Role,
  roleSchema,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from './auth/claims.ts';
export { type BaseConfig, baseConfigSchema, ConfigError, loadConfig } from './config/load-config.ts';
export { type CallOptions, DaprHttpError, DaprSidecar, SidecarUnavailableError } from './dapr/sidecar.ts';
export {
  type EntityManager,
  initOrm,
  lockForTransaction,
  migrate,
  type NamedMigration,
  pingDatabase,
  withDriverErrors,
} from './db/orm.ts';
export { anyUuid, jsonRecordset } from './db/recordset.ts';
export {
  AppError,
  BusinessRuleError,
  type FieldIssue,
  ForbiddenError,
  NotFoundError,
  problemTypeUri,
  UnauthorizedError,
  ValidationError,
} from './errors/app-error.ts';
export {
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problemMiddleware,
  toProblem,
} from './errors/problem-middleware.ts';
export { type DomainEvent, newEvent, type ReceivedEvent, uuidv7 } from './events/cloud-event.ts';
export { healthRouter, type ReadinessCheck } from './http/health.router.ts';
export {
  IDEMPOTENCY_KEY_HEADER,
  IdempotencyKeyReusedError,
  readIdempotencyKey,
  requestFingerprint,
} from './http/idempotency.ts';
export type { RequestState } from './http/request-context.ts';
export { type RouteInput, Routes } from './http/routes.ts';
export { type ServeOptions, serve } from './http/serve.ts';
export { type SseOptions, streamChanges } from './http/sse.ts';
export { TokenBuckets } from './http/token-buckets.ts';
export {
  type Page,
  type PageQuery,
  pageQuerySchema,
  parseBody,
  parseParams,
  parseQuery,
} from './http/validate.ts';
export { consumeOnce } from './inbox/inbox.ts';
export { createLogger, type Logger, traceIdFrom } from './logger.ts';
export { traceparentInterceptor } from './observability/grpc-trace.ts';
export {
  defineCounter,
  defineScrapedGauge,
  metricsRegistry,
  serveMetrics,
} from './observability/metrics.ts';
export {
  contextFrom,
  currentTraceId,
  currentTraceparent,
  inSpan,
  inTraceOf,
  SpanKind,
} from './observability/tracing.ts';
export { tracedActivity, withTraceparent } from './observability/workflow-trace.ts';
export type { ApiOperation } from './openapi/api-operation.ts';
export {
  API_VERSION,
  jsonSchemaOf,
  type OpenApiDocument,
  openApiDocument,
  openApiPath,
  problemSchema,
  serviceDocument,
} from './openapi/openapi-document.ts';
export { addManyToOutbox, addToOutbox } from './outbox/outbox.ts';
export { OutboxRelay } from './outbox/outbox-relay.ts';
export {
  deadLetterRoute,
  type EventHandler,
  eventRoute,
  PermanentEventError,
  subscriptionsRouter,
} from './pubsub/subscriptions.ts';
export { createRedis, type Redis } from './redis.ts';
export { platformRetention, type RetentionRule, sweepRetention } from './retention/retention.ts';
export { forwardOnce, type Standing, undoOnce } from './saga/once-per-order.ts';
export {
  assembleApp,
  runMigrations,
  runService,
  type ServiceDefinition,
  type ServiceDeps,
  type ServiceParts,
} from './service.ts';
export {
  assembleStatelessApp,
  type StatelessConfig,
  type StatelessServiceDefinition,
  type StatelessServiceDeps,
  type StatelessServiceParts,
  statelessConfigSchema,
} from './stateless-service.ts';
export { runPeriodically } from './timers/periodic.ts';
