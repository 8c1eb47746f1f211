// SPDX-License-Identifier: MIT
/**
 * @file Process entry: config → model cards → one worker pool per model, loaded and warmed up →
 * listen. Nothing binds the port until inference works, so a bad model fails the deploy (exit 1)
 * instead of the first request. With MODEL_REPOSITORY a model that fails to load is served as
 * unavailable while the others work, unless STRICT_MODELS=1; with no model left the boot fails.
 * SIGTERM/SIGINT drain (docs/serving.md, "Shutdown").
 */
import { createServer, type Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { pino, type Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createApp, type IgnApp } from './app.ts';
import { ConfigError, parseConfig, redactConfig, type ServerConfig } from './config.ts';
import type { WorkerPool } from './inference/pool.ts';
import { createMetrics } from './metrics.ts';
import { StartupError, startRepository } from './model-repository.ts';

function fail(logger: Logger, message: string, details: Record<string, unknown> & { error: string }): never {
  logger.fatal(details, message);
  process.stderr.write(`ign-server: ${message}: ${details.error}\n`);
  process.exit(1);
}

function readConfig(): ServerConfig {
  try {
    return parseConfig(process.env);
  } catch (err) {
    process.stderr.write(`ign-server: invalid configuration: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

function listen(config: ServerConfig, handle: IgnApp): Server {
  const server = createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      keepAliveTimeout: 5_000,
      // Node checks the two timeouts above only this often; its default of 30 s would let a slow
      // client hold a connection 30 s past HEADERS_TIMEOUT_MS.
      connectionsCheckingInterval: 1_000,
      maxHeaderSize: 8192,
    },
    (req, res) => {
      if (handle.lifecycle.draining) res.shouldKeepAlive = false;
      handle.app(req, res);
    },
  );
  server.listen(config.port, config.host);
  return server;
}

function installDrain(server: Server, handle: IgnApp, pools: readonly WorkerPool[], config: ServerConfig, logger: Logger): void {
  const drain = (signal: string): void => {
    if (handle.lifecycle.draining) return;
    handle.lifecycle.draining = true;
    logger.info({ signal, drainMs: config.drainMs }, 'draining');
    const deadline = setTimeout(() => {
      logger.error('drain timed out');
      process.exit(1);
    }, config.drainMs);
    const idleCloser = setInterval(() => {
      server.closeIdleConnections();
    }, 250);
    const closed = new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    server.closeIdleConnections();
    void Promise.all([closed, handle.models.idle()])
      .then(() => Promise.all(pools.map((pool) => pool.close())))
      .then(() => {
        clearInterval(idleCloser);
        clearTimeout(deadline);
        logger.info('drained; exiting');
        process.exit(0);
      });
  };
  process.on('SIGTERM', () => {
    drain('SIGTERM');
  });
  process.on('SIGINT', () => {
    drain('SIGINT');
  });
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({ level: config.logLevel, base: { service: 'ign-server' } });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
  logger.info({ config: redactConfig(config), cores: availableParallelism() }, 'configuration');

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createMetrics(config.maxBatchSize, registry);
  const { models, unavailable } = await startRepository(config, logger, (name) => ({
    onRestart: () => {
      metrics.workerRestarts.inc({ model: name });
    },
    // Respawning with backoff did not help: exit non-zero and let the orchestrator restart us.
    onGiveUp: (reason) => {
      fail(logger, 'inference workers keep failing', { model: name, error: reason });
    },
  })).catch((err: unknown) =>
    err instanceof StartupError
      ? fail(logger, err.what, { error: err.message })
      : fail(logger, 'cannot start', { error: err instanceof Error ? err.message : String(err) }),
  );

  let handle: IgnApp;
  try {
    handle = createApp({ config, models, unavailable, logger, metrics });
  } catch (err) {
    fail(logger, 'cannot serve the models', { error: err instanceof Error ? err.message : String(err) });
  }
  const server = listen(config, handle);
  server.on('listening', () => {
    const address = server.address();
    logger.info({ host: config.host, port: typeof address === 'object' && address !== null ? address.port : config.port }, 'listening');
  });
  server.on('error', (err) => {
    fail(logger, 'cannot listen', { port: config.port, error: err.message });
  });
  installDrain(
    server,
    handle,
    models.map((m) => m.generator),
    config,
    logger,
  );
}

void main();
