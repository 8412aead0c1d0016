import { currentRequest } from '../oidc-provider/internals.js';

/**
 * State the adapter keeps for the length of one request, keyed by oidc-provider's request
 * context (currentRequest): another request never sees it, and it goes with the request.
 * Outside a request (no context) nothing is kept.
 */
export class RequestScoped<V> {
  readonly #byRequest = new WeakMap<object, Map<string, V>>();

  /** Keeps a value for this request; false when there is no request to keep it for. */
  set(key: string, value: V): boolean {
    const request = currentRequest();
    if (!request) return false;
    let values = this.#byRequest.get(request);
    if (!values) this.#byRequest.set(request, (values = new Map()));
    values.set(key, value);
    return true;
  }

  /** Removes and returns the value kept under `key`, if this request kept one. */
  take(key: string): { value: V } | undefined {
    const request = currentRequest();
    return request ? this.takeFrom(request, key) : undefined;
  }

  /** take(), from outside oidc-provider's request context: a middleware around it passes its Koa context. */
  takeFrom(request: object, key: string): { value: V } | undefined {
    const values = this.#byRequest.get(request);
    if (!values?.has(key)) return undefined;
    const value = values.get(key) as V;
    values.delete(key);
    return { value };
  }

  delete(key: string): void {
    this.#values()?.delete(key);
  }

  #values(): Map<string, V> | undefined {
    const request = currentRequest();
    return request ? this.#byRequest.get(request) : undefined;
  }
}
