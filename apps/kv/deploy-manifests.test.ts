import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { environmentName, serverConfig, serverFlags } from './server-flags.js';

// The deployment files are configuration that no test would run otherwise: these checks parse
// them and hold together what must agree (ports, names, the DNS discovery name, the flags).

const root = new URL('../../', import.meta.url);
const text = (path: string): string => readFileSync(new URL(path, root), 'utf8');

/** Every environment variable the server reads. */
const knownVariables = new Set(Object.keys(serverFlags).map(environmentName));

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface Port {
  name: string;
  port?: number;
  containerPort?: number;
  targetPort?: string | number;
}
interface Probe {
  httpGet: { path: string; port: string };
}
interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}
interface StatefulSetSpec {
  serviceName: string;
  replicas: number;
  podManagementPolicy: string;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      securityContext: { runAsNonRoot: boolean };
      containers: {
        ports: Port[];
        env: EnvVar[];
        readinessProbe: Probe;
        livenessProbe: Probe;
        volumeMounts: { name: string; mountPath: string }[];
      }[];
    };
  };
  volumeClaimTemplates: { metadata: { name: string } }[];
}

function kubernetes(): Manifest[] {
  return parseAllDocuments(text('deploy/kubernetes/raftkit-kv.yaml')).map(
    (document) => document.toJS() as Manifest,
  );
}

function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter(
    (manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name),
  );
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
}

describe('Kubernetes manifests', () => {
  const manifests = kubernetes();
  const statefulSet = only(manifests, 'StatefulSet');
  const spec = statefulSet.spec as unknown as StatefulSetSpec;
  const container = spec.template.spec.containers[0]!;
  const env = new Map(container.env.map((variable) => [variable.name, variable]));
  const value = (name: string): string => {
    const found = env.get(name)?.value;
    expect(found, name).toBeDefined();
    return found!;
  };
  const headless = only(manifests, 'Service', spec.serviceName);
  const servicePorts = headless.spec.ports as Port[];

  it('governs the StatefulSet with a headless Service that publishes pods before they are ready', () => {
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(headless.spec.selector).toEqual(spec.template.metadata.labels);
    expect(spec.selector.matchLabels).toEqual(spec.template.metadata.labels);
    expect(spec.podManagementPolicy).toBe('Parallel');
  });

  it('uses the same port numbers in the container, the Service and the server flags', () => {
    const containerPort = (name: string) =>
      container.ports.find((port) => port.name === name)?.containerPort;
    for (const [name, variable] of [
      ['raft', 'RAFTKIT_RAFT_PORT'],
      ['client', 'RAFTKIT_CLIENT_PORT'],
      ['http', 'RAFTKIT_HTTP_PORT'],
    ] as const) {
      expect(Number(value(variable)), variable).toBe(containerPort(name));
      const servicePort = servicePorts.find((port) => port.name === name);
      expect(servicePort?.port, name).toBe(containerPort(name));
      expect(servicePort?.targetPort, name).toBe(name);
    }
  });

  it('lists the pods as members and finds them through the Service SRV record', () => {
    const set = statefulSet.metadata.name;
    expect(value('RAFTKIT_MEMBERS').split(',')).toEqual(
      Array.from({ length: spec.replicas }, (_, ordinal) => `${set}-${ordinal}`),
    );
    expect(env.get('RAFTKIT_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.get('POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    const domain = `${spec.serviceName}.$(POD_NAMESPACE).svc.cluster.local`;
    // Kubernetes names an SRV record after the port's name: _<port>._tcp.<service>...
    expect(servicePorts.some((port) => port.name === 'raft')).toBe(true);
    expect(value('RAFTKIT_DISCOVERY_SRV')).toBe(`_raft._tcp.${domain}`);
    expect(value('RAFTKIT_HOST_TEMPLATE')).toBe(`{id}.${domain}`);
  });

  it('authenticates the Raft port from a Secret and keeps data on the claimed volume', () => {
    expect(env.get('RAFTKIT_SECRET')?.valueFrom?.secretKeyRef?.name).toBeTruthy();
    const mount = container.volumeMounts.find(
      (volume) => volume.name === spec.volumeClaimTemplates[0]?.metadata.name,
    );
    expect(mount?.mountPath).toBe(value('RAFTKIT_DIR'));
    expect(spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it('probes readiness on /ready and liveness on /health through the http port', () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
  });

  it('keeps a majority through voluntary disruptions', () => {
    const budget = only(manifests, 'PodDisruptionBudget');
    expect(budget.spec.selector).toEqual({ matchLabels: spec.template.metadata.labels });
    const majority = Math.floor(spec.replicas / 2) + 1;
    expect(spec.replicas - (budget.spec.maxUnavailable as number)).toBeGreaterThanOrEqual(majority);
  });

  it('sets only variables the server reads, and they make a valid configuration', () => {
    const raftkit = [...env.keys()].filter((name) => name.startsWith('RAFTKIT_'));
    for (const name of raftkit) expect(knownVariables, name).toContain(name);
    const config = serverConfig(
      Object.fromEntries(
        [...env.values()]
          .filter((variable) => variable.name.startsWith('RAFTKIT_'))
          .map((variable) => [
            flagOf(variable.name),
            variable.value?.replaceAll('$(POD_NAMESPACE)', 'default') ??
              (variable.name === 'RAFTKIT_ID' ? `${statefulSet.metadata.name}-0` : 'x'.repeat(32)),
          ]),
      ),
    );
    expect(config.bind.raft).toBe('0.0.0.0:7000');
    expect(config.secret).toHaveLength(32);
  });
});

function flagOf(variable: string): string {
  return variable.slice('RAFTKIT_'.length).toLowerCase().replaceAll('_', '-');
}

describe('Docker files', () => {
  it('compose runs three servers that list each other and share one secret', () => {
    const compose = parse(text('deploy/compose.yaml'), { merge: true }) as {
      services: Record<string, { environment: Record<string, string>; hostname: string }>;
    };
    const services = Object.entries(compose.services);
    expect(services).toHaveLength(3);
    for (const [name, service] of services) {
      expect(service.environment.RAFTKIT_ID).toBe(name);
      expect(service.hostname).toBe(name);
      expect(service.environment.RAFTKIT_MEMBERS!.split(',')).toEqual(
        services.map(([other]) => other),
      );
      expect(service.environment.RAFTKIT_SECRET).toMatch(/^\$\{RAFTKIT_SECRET:\?/);
      for (const variable of Object.keys(service.environment)) {
        expect(knownVariables, variable).toContain(variable);
      }
    }
  });

  it('the image runs as a non-root user with a health check on the HTTP port', () => {
    const dockerfile = text('Dockerfile');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s+CMD .*\/health/m);
    const exposed = /^EXPOSE (.+)$/m.exec(dockerfile)?.[1]?.split(' ').map(Number);
    for (const variable of ['RAFTKIT_RAFT_PORT', 'RAFTKIT_CLIENT_PORT', 'RAFTKIT_HTTP_PORT']) {
      const port = new RegExp(`${variable}=(\\d+)`).exec(dockerfile)?.[1];
      expect(exposed, variable).toContain(Number(port));
    }
    const manifest = JSON.parse(text('package.json')) as { bin: Record<string, string> };
    const entry = /^ENTRYPOINT \["([^"]+)"\]$/m.exec(dockerfile)?.[1];
    expect(manifest.bin[entry ?? '']).toBe('dist/apps/kv/main.js');
  });
});
