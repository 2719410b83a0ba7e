import { Agent } from 'undici';

export interface TlsMaterial {
  /** PEM client certificate chain and key (ClientCertificateAuthentication). */
  cert?: string;
  key?: string;
  passphrase?: string;
  /** PEM trust store (TrustStoreLocation); the system roots otherwise. */
  ca?: string;
  /** BTP `TrustAll`: accept any server certificate. */
  trustAll?: boolean;
}

/**
 * One undici Agent per TLS setup. Client certificates are part of the TLS handshake, so a
 * destination with its own key store needs its own connection pool.
 */
export class AgentCache {
  private readonly plain = new Agent({ connections: 32 });
  private readonly agents = new Map<string, Agent>();

  get(key: string | undefined, tls: TlsMaterial | undefined): Agent {
    if (!key || !tls) return this.plain;
    const existing = this.agents.get(key);
    if (existing) return existing;
    const agent = new Agent({
      connections: 16,
      connect: {
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        ...(tls.passphrase ? { passphrase: tls.passphrase } : {}),
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.trustAll ? { rejectUnauthorized: false } : {}),
      },
    });
    this.agents.set(key, agent);
    return agent;
  }

  /** Forgets the pools of a destination (after an edit, so new certificates are used). */
  drop(prefix: string): void {
    for (const [key, agent] of this.agents) {
      if (!key.startsWith(prefix)) continue;
      this.agents.delete(key);
      void agent.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [this.plain, ...this.agents.values()];
    this.agents.clear();
    await Promise.all(all.map((agent) => agent.destroy().catch(() => undefined)));
  }
}
