import Router from '@koa/router';
import type { DaprSidecar } from '../dapr/sidecar.ts';
import { NotFoundError } from '../errors/app-error.ts';
import type { Logger } from '../logger.ts';

export interface ActorContext {
  actorType: string;
  actorId: string;
  sidecar: DaprSidecar;
  log: Logger;
  getState<T>(key: string): Promise<T | undefined>;
  /** Saves several keys in one transaction of the actor state store. */
  setState(values: Record<string, unknown>): Promise<void>;
}

export type ActorMethod = (actor: ActorContext, body: unknown) => Promise<unknown>;

export interface ActorType {
  type: string;
  methods: Record<string, ActorMethod>;
  /** Dapr deactivated this actor here (idle, or moved to another replica): drop what is held in memory. */
  onDeactivate?: (actorId: string) => void;
}

export interface ActorHostOptions {
  idleTimeout?: string;
  drainOngoingCallTimeout?: string;
}

/**
 * The app side of the Dapr actor protocol, served by Koa: daprd reads
 * `/dapr/config` to learn which actor types this app hosts, then calls
 * `PUT /actors/{type}/{id}/method/{name}`. Dapr's placement guarantees one
 * activation per actor id and turn-based calls, so a method never runs
 * concurrently with another on the same actor. State goes through the
 * sidecar's actor state API (the state store marked actorStateStore).
 */
export function actorHostRouter(
  actorTypes: ActorType[],
  sidecar: DaprSidecar,
  log: Logger,
  options: ActorHostOptions = {},
): Router {
  const router = new Router();
  const byType = new Map(actorTypes.map((t) => [t.type, t]));

  router.get('/dapr/config', (ctx) => {
    ctx.body = {
      entities: [...byType.keys()],
      actorIdleTimeout: options.idleTimeout ?? '1h',
      drainOngoingCallTimeout: options.drainOngoingCallTimeout ?? '30s',
      drainRebalancedActors: true,
    };
  });

  router.put('/actors/:type/:id/method/:method', async (ctx) => {
    const { type, id, method } = ctx.params as { type: string; id: string; method: string };
    const impl = byType.get(type)?.methods[method];
    if (!impl) throw new NotFoundError('actor method', `${type}.${method}`);
    const actor: ActorContext = {
      actorType: type,
      actorId: id,
      sidecar,
      log: log.child({ actorType: type, actorId: id }),
      getState: (key) => sidecar.getActorState(type, id, key),
      setState: (values) =>
        sidecar.saveActorState(
          type,
          id,
          Object.entries(values).map(([key, value]) => ({ operation: 'upsert', request: { key, value } })),
        ),
    };
    const result = await impl(actor, (ctx.request as { body?: unknown }).body);
    ctx.status = 200;
    ctx.body = result ?? {};
  });

  router.delete('/actors/:type/:id', (ctx) => {
    const { type, id } = ctx.params as { type: string; id: string };
    byType.get(type)?.onDeactivate?.(id);
    ctx.status = 200;
    ctx.body = {};
  });
  return router;
}
