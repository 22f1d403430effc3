// Validates Kubernetes manifests against the Kubernetes (and Prometheus Operator) schemas
// of the kubernetes-models packages, and chart values against values.schema.json.
//
//   node validate.mjs manifests FILE...     every document of every YAML stream
//   node validate.mjs values SCHEMA FILE... each values file, merged over the chart defaults
//                                           (the first FILE), against the JSON schema
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseAllDocuments, parse } from "yaml";
import Ajv from "ajv";

const groups = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

async function validateManifests(files) {
  let count = 0;
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      const object = doc.toJS();
      if (object == null) continue;
      const module = groups[object.apiVersion];
      if (!module) throw new Error(`${file}: no schema for ${object.apiVersion} ${object.kind}`);
      const models = await import(module);
      const Model = models[object.kind];
      if (!Model) throw new Error(`${file}: no schema for ${object.apiVersion} ${object.kind}`);
      try {
        new Model(object).validate();
      } catch (e) {
        throw new Error(`${file}: ${object.kind} ${object.metadata?.name}: ${e.message}`);
      }
      count++;
    }
  }
  console.log(`validate: ${count} manifests valid`);
}

function mergeInto(dst, src) {
  for (const [k, v] of Object.entries(src ?? {})) {
    if (v && typeof v === "object" && !Array.isArray(v) && dst[k] && typeof dst[k] === "object") {
      mergeInto(dst[k], v);
    } else {
      dst[k] = v;
    }
  }
  return dst;
}

function validateValues(schemaFile, defaultsFile, files) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const check = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
  for (const file of [defaultsFile, ...files]) {
    const values = mergeInto(parse(readFileSync(defaultsFile, "utf8")),
                             file === defaultsFile ? {} : parse(readFileSync(file, "utf8")));
    if (!check(values)) throw new Error(`${file}: ${ajv.errorsText(check.errors)}`);
  }
  console.log(`validate: ${files.length + 1} values files match the schema`);
}

// Writes the gateway configuration of every ConfigMap holding psycho-gateway.yaml to
// OUT_DIR/rendered-config-N.yaml, with /etc/psycho/ paths moved under OUT_DIR/etc-psycho/ and
// empty files there standing in for what the pod mounts.
// What a mounted file holds for --check-config: a key or secret file needs one key; others
// may be empty.
function standInFor(path) {
  const keyFile = ["/etc-psycho/multicast-keys/", "/etc-psycho/poldercast-secret/"];
  return keyFile.some((dir) => path.includes(dir)) ? `1 ${"5a".repeat(32)}\n` : "";
}

function extractConfigs(outDir, files) {
  let n = 0;
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      const object = doc.toJS();
      const text = object?.kind === "ConfigMap" ? object.data?.["psycho-gateway.yaml"] : undefined;
      if (text === undefined) continue;
      const moved = text.replaceAll("/etc/psycho/", `${outDir}/etc-psycho/`);
      for (const path of moved.match(new RegExp(`${outDir}/etc-psycho/\\S+`, "g")) ?? []) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, standInFor(path), { flag: "a", mode: 0o600 });
      }
      writeFileSync(`${outDir}/rendered-config-${++n}.yaml`, moved);
    }
  }
  console.log(`validate: ${n} rendered gateway configurations`);
}

const [mode, ...args] = process.argv.slice(2);
try {
  if (mode === "manifests") await validateManifests(args);
  else if (mode === "values") validateValues(args[0], args[1], args.slice(2));
  else if (mode === "configs") extractConfigs(args[0], args.slice(1));
  else throw new Error("usage: validate.mjs manifests FILE... | values SCHEMA DEFAULTS FILE... | configs OUT_DIR FILE...");
} catch (e) {
  console.error(`validate: ${e.message}`);
  process.exit(1);
}
