import type Koa from 'koa';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';
import type { KeySnapshot } from '../keys/key-snapshot.js';

/**
 * oidc-provider fixes its keystore when a Provider is built. When the key ring changes, a new
 * Provider is built from the new snapshot and swapped in here: requests already inside the old
 * one finish there, new requests go to the new one. Everything else keeps its state in the
 * database (sessions, grants, codes) or in caches outside the Provider, so nothing is lost.
 */
export class ProviderHost {
  #current!: Provider;
  #handler!: Koa.Middleware;

  constructor(
    private readonly build: (keys: KeySnapshot) => Provider,
    private readonly prefix: string,
    keys: KeySnapshot,
  ) {
    this.swap(keys);
  }

  get current(): Provider {
    return this.#current;
  }

  swap(keys: KeySnapshot): void {
    const provider = this.build(keys);
    this.#handler = mount(this.prefix || '/', provider as unknown as Koa);
    this.#current = provider;
  }

  middleware(): Koa.Middleware {
    return (ctx, next) => this.#handler(ctx, next);
  }
}
