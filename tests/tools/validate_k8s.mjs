// validate_k8s.mjs — dist/k8s/*.yaml against the Kubernetes API schemas (the kubernetes-models
// package: every object validated by its kind's JSON schema — types, required fields, enums;
// it does not refuse unknown fields, which the cross-checks below cover where they matter), and the
// manifests against each other: the Service and the autoscaler select the Deployment, the probes
// ask edgellm's /health on the named port, the preStop pause and --shutdown-timeout fit the
// grace period. Prints "PASS name" / "FAIL name: why"; the container's arguments are printed
// as "ARGS ..." for the shell check to hand to the binary.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const dir = process.argv[2];
const models = {
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
  'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service,
  'v1/ConfigMap': async () => (await import('kubernetes-models/v1/ConfigMap')).ConfigMap,
  'v1/PersistentVolumeClaim': async () => (await import('kubernetes-models/v1/PersistentVolumeClaim')).PersistentVolumeClaim,
  'autoscaling/v2/HorizontalPodAutoscaler': async () =>
    (await import('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler')).HorizontalPodAutoscaler,
};
const pass = (n) => console.log('PASS ' + n);
const fail = (n, why) => console.log('FAIL ' + n + ': ' + why);
const objs = {};
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8'))) {
    const o = doc.toJS();
    if (!o) continue;
    const key = `${o.apiVersion}/${o.kind}`;
    const name = `k8s_${f.replace('.yaml', '')}_is_a_valid_${o.kind}`;
    if (doc.errors.length) { fail(name, doc.errors[0].message); continue; }
    if (!models[key]) { fail(name, 'no schema for ' + key); continue; }
    try {
      new (await models[key]())(o).validate();
      pass(name);
    } catch (e) {
      fail(name, String(e.message || e).slice(0, 400));
    }
    objs[o.kind] = o;
  }
}
const dep = objs.Deployment, svc = objs.Service, hpa = objs.HorizontalPodAutoscaler;
if (!dep || !svc || !hpa) {
  fail('k8s_manifests_complete', 'a Deployment, a Service and a HorizontalPodAutoscaler are needed');
  process.exit(0);
}
const labels = dep.spec.template.metadata.labels;
const selects = (sel) => Object.entries(sel).every(([k, v]) => labels[k] === v);
selects(svc.spec.selector) && selects(dep.spec.selector.matchLabels)
  ? pass('k8s_service_selects_the_deployments_pods') : fail('k8s_service_selects_the_deployments_pods', JSON.stringify(svc.spec.selector));
hpa.spec.scaleTargetRef.kind === 'Deployment' && hpa.spec.scaleTargetRef.name === dep.metadata.name
  ? pass('k8s_autoscaler_targets_the_deployment') : fail('k8s_autoscaler_targets_the_deployment', JSON.stringify(hpa.spec.scaleTargetRef));
const c = dep.spec.template.spec.containers[0];
const port = c.ports.find((p) => p.name === 'http');
const probes = ['startupProbe', 'readinessProbe', 'livenessProbe'].map((p) => c[p]);
probes.every((p) => p && p.httpGet.path === '/health' && p.httpGet.port === 'http') && port &&
  svc.spec.ports[0].targetPort === 'http' && c.args.includes(`--port=${port.containerPort}`)
  ? pass('k8s_probes_and_service_reach_the_serve_port') : fail('k8s_probes_and_service_reach_the_serve_port', JSON.stringify(c.ports));
const ann = dep.spec.template.metadata.annotations || {};
ann['prometheus.io/scrape'] === 'true' && ann['prometheus.io/path'] === '/metrics' && ann['prometheus.io/port'] === String(port.containerPort)
  ? pass('k8s_prometheus_scrapes_metrics') : fail('k8s_prometheus_scrapes_metrics', JSON.stringify(ann));
const shutdown = Number((c.args.find((a) => a.startsWith('--shutdown-timeout=')) || '=').split('=')[1]);
const pause = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
shutdown > 0 && pause > 0 && dep.spec.template.spec.terminationGracePeriodSeconds >= shutdown + pause
  ? pass('k8s_grace_period_covers_the_prestop_pause_and_the_drain')
  : fail('k8s_grace_period_covers_the_prestop_pause_and_the_drain', `grace ${dep.spec.template.spec.terminationGracePeriodSeconds}, pause ${pause}, --shutdown-timeout ${shutdown}`);
console.log('ARGS ' + c.args.join(' '));
