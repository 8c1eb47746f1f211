// SPDX-License-Identifier: MIT
// Kubernetes and KServe manifests against the server's real contract: the env names config.ts
// reads, the routes the server answers, and the drain/security settings of docs/serving.md ("Shutdown", "KServe contract").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from '../../server/config.ts';

const root = new URL('../../', import.meta.url).pathname;

interface EnvVar {
  name: string;
  value?: string;
}
interface Probe {
  httpGet: { path: string; port: number | string };
  periodSeconds: number;
  failureThreshold: number;
}
interface Container {
  name: string;
  ports: { name?: string; containerPort: number }[];
  env: EnvVar[];
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
  lifecycle?: { preStop: { exec: { command: string[] } } };
  resources: { requests: { cpu?: string; memory?: string }; limits: { cpu?: string; memory?: string } };
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodSecurity {
  runAsNonRoot: boolean;
  runAsUser: number;
}
interface Deployment {
  metadata: { name: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { annotations: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: PodSecurity;
        containers: Container[];
        volumes: { name: string; emptyDir?: unknown }[];
      };
    };
  };
}
interface Service {
  spec: { selector: Record<string, string>; ports: { targetPort: string | number }[] };
}
interface Hpa {
  apiVersion: string;
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: { resource: { name: string } }[];
  };
}
interface InferenceService {
  apiVersion: string;
  metadata: { annotations: Record<string, string> };
  spec: { predictor: { securityContext: PodSecurity; containers: Container[] } };
}

function load(name: string): unknown {
  return parse(readFileSync(join(root, 'deploy', name), 'utf8'));
}

/** Every env name server/config.ts reads: `readInt(env, 'X'`, `env.X`, `env['X']`. */
function configEnvNames(): Set<string> {
  const text = readFileSync(join(root, 'server/config.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of text.matchAll(/\(env, '([A-Z_][A-Z0-9_]*)'|env\.([A-Z_][A-Z0-9_]*)|env\['([A-Z_][A-Z0-9_]*)'\]/g)) {
    names.add(m[1] ?? m[2] ?? m[3]!);
  }
  return names;
}

const envObject = (c: Container): Record<string, string | undefined> => Object.fromEntries(c.env.map((e) => [e.name, e.value]));

const deployment = load('deployment.yaml') as Deployment;
const service = load('service.yaml') as Service;
const hpa = load('hpa.yaml') as Hpa;
const isvc = load('kserve-inferenceservice.yaml') as InferenceService;
const pod = deployment.spec.template.spec;
const container = pod.containers[0]!;
const kserveContainer = isvc.spec.predictor.containers[0]!;

void test('config.ts exposes the env names the manifests rely on', () => {
  const names = configEnvNames();
  for (const n of [
    'PORT',
    'HOST',
    'MODEL_DIR',
    'IGN_EP',
    'WORKERS',
    'MAX_BATCH_SIZE',
    'MAX_QUEUE_DELAY_MS',
    'MAX_QUEUE',
    'REQUEST_TIMEOUT_MS',
    'DRAIN_MS',
  ]) {
    assert.ok(names.has(n), `config.ts reads ${n}`);
  }
});

for (const [label, c] of [
  ['Deployment', container],
  ['InferenceService', kserveContainer],
] as const) {
  void test(`${label}: every env var is one config.ts reads, and the set parses as a valid config`, () => {
    const names = configEnvNames();
    const env = c.env.filter((e) => e.name !== 'STORAGE_URI');
    for (const e of env) assert.ok(names.has(e.name), `${e.name} is read by server/config.ts`);
    const values = Object.fromEntries(env.map((e) => [e.name, e.value]));
    const config = parseConfig(values);
    assert.equal(config.port, 8080);
    assert.equal(c.ports[0]?.containerPort, config.port);
  });
}

void test('Deployment: probes hit the health routes on the named port, startup probe first', () => {
  assert.equal(container.ports[0]?.name, 'http');
  assert.equal(container.startupProbe.httpGet.path, '/healthz');
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  for (const p of [container.startupProbe, container.livenessProbe, container.readinessProbe]) assert.equal(p.httpGet.port, 'http');
  const startupBudget = container.startupProbe.periodSeconds * container.startupProbe.failureThreshold;
  assert.ok(startupBudget >= 30, `startup probe allows ${startupBudget} s for model load + warm-up`);
});

void test('Deployment: grace period covers preStop sleep + DRAIN_MS', () => {
  const drainMs = parseConfig(envObject(container)).drainMs;
  const preStop = container.lifecycle?.preStop.exec.command ?? [];
  assert.equal(preStop[0], 'sleep');
  const sleepS = Number(preStop[1]);
  assert.ok(sleepS > 0);
  assert.ok(
    pod.terminationGracePeriodSeconds > sleepS + drainMs / 1000,
    `${pod.terminationGracePeriodSeconds} s > ${sleepS} s + ${drainMs} ms`,
  );
});

void test('Deployment: non-root, no privilege escalation, ALL caps dropped, read-only root with /tmp emptyDir', () => {
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0);
  const sc = container.securityContext;
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.deepEqual(sc.capabilities.drop, ['ALL']);
  const tmp = container.volumeMounts.find((m) => m.mountPath === '/tmp');
  assert.ok(pod.volumes.some((v) => v.name === tmp?.name && v.emptyDir !== undefined));
  assert.ok(container.resources.requests.cpu !== undefined && container.resources.limits.memory !== undefined);
});

void test('Deployment: Prometheus scrapes /metrics on the container port', () => {
  const a = deployment.spec.template.metadata.annotations;
  assert.equal(a['prometheus.io/scrape'], 'true');
  assert.equal(Number(a['prometheus.io/port']), container.ports[0]?.containerPort);
  assert.equal(a['prometheus.io/path'], '/metrics');
});

void test('Service and HPA point at the Deployment', () => {
  assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
  assert.equal(service.spec.ports[0]?.targetPort, container.ports[0]?.name);
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.equal(hpa.spec.scaleTargetRef.kind, 'Deployment');
  assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
  assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
  assert.equal(hpa.spec.metrics[0]?.resource.name, 'cpu');
});

void test('InferenceService: kserve-container on 8080, model from /mnt/models, OIP health probes, scraping', () => {
  assert.equal(isvc.apiVersion, 'serving.kserve.io/v1beta1');
  assert.equal(kserveContainer.name, 'kserve-container');
  assert.equal(kserveContainer.ports[0]?.containerPort, 8080);
  const env = new Map(kserveContainer.env.map((e) => [e.name, e.value]));
  assert.match(env.get('STORAGE_URI') ?? '', /^(gs|s3|pvc|https?):\/\//);
  assert.equal(env.get('MODEL_DIR'), '/mnt/models');
  assert.equal(kserveContainer.readinessProbe.httpGet.path, '/v2/health/ready');
  assert.equal(kserveContainer.livenessProbe.httpGet.path, '/v2/health/live');
  assert.ok(kserveContainer.startupProbe.httpGet.path.startsWith('/v2/health/'));
  const a = isvc.metadata.annotations;
  assert.equal(a['serving.kserve.io/enable-prometheus-scraping'], 'true');
  assert.equal(a['prometheus.kserve.io/port'], '8080');
  assert.equal(a['prometheus.kserve.io/path'], '/metrics');
  assert.equal(kserveContainer.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(kserveContainer.securityContext.capabilities.drop, ['ALL']);
  assert.equal(isvc.spec.predictor.securityContext.runAsNonRoot, true);
});
