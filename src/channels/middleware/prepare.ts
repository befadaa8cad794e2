// The middleware contract shared by every middleware in this folder: a synchronous `resolve` for
// routing and refusals, and asynchronous preparation steps that `serve()` awaits before it runs the
// consumer.
//
// Routing's `resolve(scope)` is synchronous (serve() must decide 404/403 before the upgrade without
// running application code). Middleware that needs async work (a session store lookup, a user lookup)
// therefore does not do it in `resolve`: it records a *prepare step* on the scope it passes inward,
// under PREPARE_STEPS. Steps run outermost first (the order `resolve` met the middleware), each
// receiving the scope the previous step returned. serve() calls `prepareScope(resolved)` after a
// successful resolve and before the consumer starts; the scope it returns (without PREPARE_STEPS) is
// the consumer's `scope`. A step that rejects rejects prepareScope: serve() answers 500 (or closes 1011
// if already upgraded).
//
// A middleware that refuses a connection (OriginValidator) resolves to `{ app: refuseConnection,
// scope }` with `scope.refusal = { status, reason }`; serve() checks `refusalOf(resolved)` and answers
// that HTTP status before the upgrade, running nothing else.
import type { LeafApplication, Resolved, Scope } from '../routing.ts';

/** The scope key under which middleware records its pending async steps. */
export const PREPARE_STEPS = 'prepareSteps';

/** One async step: receives the scope so far, returns it extended. */
export type PrepareStep = (scope: Scope) => Promise<Scope>;

/** Why a connection is refused before the upgrade, e.g. { status: 403, reason: 'origin not allowed' }. */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
}

/** Returns a copy of `scope` with `step` appended to its prepare steps. */
export function withPrepareStep(scope: Scope, step: PrepareStep): Scope {
  const existing = scope[PREPARE_STEPS];
  const steps = Array.isArray(existing) ? (existing as PrepareStep[]) : [];
  return { ...scope, [PREPARE_STEPS]: [...steps, step] };
}

/**
 * Runs the prepare steps recorded on a resolved scope, in order, and returns the consumer's scope
 * (without the steps). A scope with no steps is returned as it is, minus the key.
 */
export async function prepareScope(resolved: Resolved): Promise<Scope> {
  const existing = resolved.scope[PREPARE_STEPS];
  const steps = Array.isArray(existing) ? (existing as PrepareStep[]) : [];
  let scope: Scope = withoutSteps(resolved.scope);
  for (const step of steps) scope = withoutSteps(await step(scope));
  return scope;
}

function withoutSteps(scope: Scope): Scope {
  if (!(PREPARE_STEPS in scope)) return scope;
  const copy: Record<string, unknown> = { ...scope };
  delete copy[PREPARE_STEPS];
  return copy as Scope;
}

/** The leaf a refusing middleware resolves to. serve() never runs it: it answers `scope.refusal`. */
export const refuseConnection: LeafApplication = function refuseConnection(): never {
  throw new Error('refuseConnection is a marker for serve(); it is never run');
};

/** Resolves to a refusal: serve() answers `status` before the upgrade. */
export function refuse(scope: Scope, status: number, reason: string): Resolved {
  const refusal: Refusal = Object.freeze({ status, reason });
  return { app: refuseConnection, scope: { ...scope, refusal } };
}

/** The refusal of a resolved application, or undefined when it is not refused. */
export function refusalOf(resolved: Resolved): Refusal | undefined {
  if (resolved.app !== refuseConnection) return undefined;
  return resolved.scope.refusal as Refusal;
}
