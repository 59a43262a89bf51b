import type { CallOptions, Contract } from 'carotene/model';
import { permittedCalls, platformError } from 'carotene/model';
import { installedCallPolicies } from '../resilience/call-policies.ts';
import { observedCall } from '../telemetry/observed-call.ts';
import type { CallMeta, Transport } from '../transport/transport.ts';
import { zodIssues } from './zod-issues.ts';

/** Default time one integration call may take when the caller's deadline allows more. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

type ClientFn = (input: unknown, options?: CallOptions) => Promise<unknown>;

/**
 * Calls one function of another service: validates the input against the provider's
 * contract before it leaves, narrows the deadline, and validates the output on arrival.
 * `meta` is the incoming call's (its deadline, request id and user carry on); `self` is the
 * calling service, which is who the callee sees as its caller.
 */
export async function callIntegration(
  transport: Transport,
  contract: Contract,
  fn: string,
  input: unknown,
  options: CallOptions | undefined,
  meta: CallMeta,
  self: string,
): Promise<unknown> {
  const rpc = contract.functions[fn];
  const target = `${contract.name}.${fn}`;
  if (!rpc) throw platformError('UNKNOWN_FUNCTION', `${target} is not a function of the '${contract.name}' contract`, { service: contract.name });
  const checked = rpc.input.safeParse(input);
  if (!checked.success) {
    throw platformError('INVALID_INPUT', `input for ${target} does not match its contract: ${zodIssues(checked.error).text}`, {
      service: contract.name,
      details: zodIssues(checked.error).issues,
    });
  }
  // one client span and one metric sample per integration call, around its retries
  const out = await observedCall(self, contract.name, fn, meta, (trace) => {
    const send = (deadline: number): Promise<unknown> =>
      transport.call(contract.name, fn, input, {
        caller: self,
        requestId: meta.requestId,
        deadline,
        auth: meta.auth,
        idempotencyKey: options?.idempotencyKey,
        ...trace,
      });
    // timeouts, retries, breaker and bulkhead of this process (docs/resilience.md); none in test harnesses
    const policies = installedCallPolicies();
    return policies
      ? policies.call(
          {
            caller: self,
            callee: contract.name,
            fn,
            idempotent: rpc.idempotent || options?.idempotencyKey !== undefined,
            deadline: meta.deadline,
            timeoutMs: options?.timeoutMs,
          },
          send,
        )
      : send(Math.min(meta.deadline, Date.now() + (options?.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS)));
  });
  const parsed = rpc.output.safeParse(out);
  if (!parsed.success) {
    throw platformError('INVALID_OUTPUT', `${target} answered with output that does not match its contract: ${zodIssues(parsed.error).text}`, {
      service: contract.name,
    });
  }
  return parsed.data;
}

/**
 * `ctx.call` for one handler invocation: a client per declared contract. Any other name is
 * refused with PERMISSION_DENIED, so code that escapes the types still cannot reach it.
 */
export function createCallAccess(contracts: readonly Contract[], transport: Transport, meta: CallMeta, self: string, owner: string): object {
  const clients = new Map<string, Record<string, ClientFn>>();
  for (const contract of contracts) {
    const client: Record<string, ClientFn> = {};
    for (const fn of Object.keys(contract.functions)) {
      client[fn] = (input, options) => callIntegration(transport, contract, fn, input, options, meta, self);
    }
    clients.set(contract.name, client);
  }
  return permittedCalls(clients, owner, "handler's");
}
