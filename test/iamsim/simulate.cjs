// Runs @cloud-copilot/iam-simulate (AGPL: a test tool, run as its own
// process, never shipped) on the cases read as JSON from stdin, and
// writes one {name, decision, errors} per case as JSON to stdout.
// Resolved from test/node_modules, where test/package.json pins it.
const { runSimulation } = require('@cloud-copilot/iam-simulate');

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const out = [];
  for (const c of JSON.parse(input)) {
    const simulation = {
      request: {
        principal: c.principal,
        action: c.action,
        resource: { resource: c.resource, accountId: c.account },
        contextVariables: c.context || {},
      },
      identityPolicies: (c.identity || []).map((policy, i) => ({ name: 'identity' + i, policy })),
      permissionBoundaryPolicies: c.boundary ? c.boundary.map((policy, i) => ({ name: 'boundary' + i, policy })) : undefined,
      resourcePolicy: c.resourcePolicy || undefined,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    };
    try {
      const r = await runSimulation(simulation, {});
      if (r.resultType === 'error') {
        out.push({ name: c.name, decision: 'error', errors: JSON.stringify(r.errors) });
      } else {
        out.push({ name: c.name, decision: r.overallResult });
      }
    } catch (e) {
      out.push({ name: c.name, decision: 'error', errors: String(e && e.stack || e) });
    }
  }
  process.stdout.write(JSON.stringify(out));
});
