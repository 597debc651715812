// Engine contract, networks/volumes and images/builds: idempotent creates that adopt only our own project's objects,
// 404-tolerant removes, in-use errors, images never pulled, and builds whose error line names the failing step.

import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { describe, it } from 'node:test';
import type { BuildProgress } from '../api/engine.ts';
import { Labels } from '../api/labels.ts';
import type { ContractContext } from './engine-contract-types.ts';
import { collect, rejectsCode, tarOf } from './engine-test-kit.ts';

export function resourceCases(c: ContractContext): void {
  describe('networks and volumes', () => {
    it('creates networks idempotently, refuses a foreign owner, refuses removal while in use, removes twice', async () => {
      const { engine, project } = c.h;
      const spec = { name: `${project}_net`, labels: c.labels() };
      const a = await engine.createNetwork(spec);
      const b = await engine.createNetwork(spec);
      assert.equal(a.id, b.id);
      assert.equal(a.name, spec.name);
      assert.equal(a.labels[Labels.project], project);
      assert.deepEqual(await engine.inspectNetwork(spec.name), { id: a.id, name: spec.name, labels: spec.labels });
      const foreign = await rejectsCode(
        engine.createNetwork({ name: spec.name, labels: { ...spec.labels, [Labels.project]: `${project}-else` } }),
        'CMESH_E_NAME_CONFLICT',
      );
      assert.equal(foreign.details.existingId, a.id);
      assert.deepEqual((await engine.listNetworks({ [Labels.project]: project })).map((n) => n.id), [a.id]);
      assert.deepEqual(await engine.listNetworks({ [Labels.project]: `${project}-else` }), []);

      const { id } = await engine.createContainer(c.spec('netuser', { networks: [{ name: spec.name, aliases: ['web'] }] }));
      await engine.startContainer(id);
      const busy = await rejectsCode(engine.removeNetwork(spec.name), 'CMESH_E_ENGINE');
      assert.equal(busy.details.reason, 'active-endpoints');
      await engine.removeContainer(id, { force: true });
      await engine.removeNetwork(spec.name);
      await engine.removeNetwork(spec.name);
      assert.equal(await engine.inspectNetwork(spec.name), undefined);
    });

    it('reaches a replica made with a reach network at its own address, with nothing published', async () => {
      // Both harnesses reach replicas directly (replica-reach.ts); the case dials nothing (the fake's addresses lead
      // nowhere): the daemon's e2e tests dial real ones through the mesh.
      const { engine, project } = c.h;
      const net = `${project}_reach`;
      await engine.createNetwork({ name: net, labels: c.labels() });
      const ports = [{ containerPort: 8080, protocol: 'tcp' as const }, { containerPort: 5353, protocol: 'udp' as const }];
      const { id } = await engine.createContainer(c.spec('reach', { networks: [{ name: net, aliases: [] }], ports, reachNetwork: net }));
      try {
        assert.deepEqual((await engine.inspectContainer(id))?.endpoints, [], 'no address before it runs');
        await engine.startContainer(id);
        const info = await engine.inspectContainer(id);
        assert.equal(info?.labels[Labels.reachNetwork], net);
        assert.equal(info.labels[Labels.reachPorts], '8080/tcp,5353/udp');
        // Sorted by container port, as every endpoint list is.
        const [udp, tcp] = info.endpoints;
        assert.equal(info.endpoints.length, 2);
        assert.ok(tcp && isIPv4(tcp.host) && tcp.host !== '127.0.0.1', `a container address: ${tcp?.host}`);
        assert.deepEqual(tcp, { containerPort: 8080, protocol: 'tcp', host: tcp.host, hostPort: 8080, direct: true });
        assert.deepEqual(udp, { containerPort: 5353, protocol: 'udp', host: tcp.host, hostPort: 5353, direct: true });
        const [listed] = await engine.listContainers({ labels: { [Labels.project]: project, [Labels.service]: 'reach' } });
        assert.deepEqual(listed?.endpoints, info.endpoints, 'the list reports what inspect does');
        await engine.stopContainer(id, 2);
        assert.deepEqual((await engine.inspectContainer(id))?.endpoints, [], 'none once stopped');
      } finally {
        await engine.removeContainer(id, { force: true });
        await engine.removeNetwork(net);
      }
    });

    it('connects a running container to a network with aliases and disconnects it, both idempotent', async () => {
      const { engine, project } = c.h;
      const [first, second] = [`${project}_live1`, `${project}_live2`];
      for (const name of [first, second]) await engine.createNetwork({ name, labels: c.labels() });
      const { id } = await engine.createContainer(c.spec('live', { networks: [{ name: first, aliases: ['web'] }] }));
      try {
        await engine.startContainer(id);
        await engine.connectNetwork(id, second, ['b', 'a']);
        await engine.connectNetwork(id, second, ['b', 'a']);
        // Inspect carries each endpoint's aliases (not the engine's short-id one) and the running container's address
        // there (one of its own per network); the list API names networks only.
        const inspected = (await engine.inspectContainer(id))?.networks ?? [];
        assert.deepEqual(
          inspected.map(({ address: _, ...n }) => n),
          [
            { name: first, aliases: ['web'] },
            { name: second, aliases: ['a', 'b'] },
          ],
        );
        const addresses = inspected.map((n) => n.address ?? '');
        assert.ok(addresses.every((a) => isIPv4(a)) && new Set(addresses).size === 2, JSON.stringify(addresses));
        const [listed] = await engine.listContainers({ labels: { [Labels.project]: project, [Labels.service]: 'live' } });
        assert.deepEqual(listed?.networks, [{ name: first }, { name: second }]);
        await engine.disconnectNetwork(id, second);
        await engine.disconnectNetwork(id, second);
        assert.deepEqual(
          (await engine.inspectContainer(id))?.networks?.map(({ address: _, ...n }) => n),
          [{ name: first, aliases: ['web'] }],
        );
        const missing = await rejectsCode(engine.connectNetwork(id, `${project}_nope`, []), 'CMESH_E_ENGINE');
        assert.match(missing.message, /not found/);
        await engine.removeNetwork(second);
      } finally {
        await engine.removeContainer(id, { force: true });
        for (const name of [first, second]) await engine.removeNetwork(name);
      }
    });

    it('creates volumes idempotently, refuses a foreign owner, refuses removal while in use, removes twice', async () => {
      const { engine, project } = c.h;
      const spec = { name: `${project}_data`, labels: c.labels() };
      const v1 = await engine.createVolume(spec);
      const v2 = await engine.createVolume(spec);
      assert.deepEqual(v1, v2);
      assert.equal(v1.name, spec.name);
      assert.equal(v1.labels[Labels.project], project);
      const foreign = await rejectsCode(
        engine.createVolume({ name: spec.name, labels: { ...spec.labels, [Labels.project]: `${project}-else` } }),
        'CMESH_E_NAME_CONFLICT',
      );
      assert.equal(foreign.details.existingId, spec.name);
      assert.deepEqual((await engine.listVolumes({ [Labels.project]: project })).map((v) => v.name), [spec.name]);
      assert.deepEqual(await engine.inspectVolume(spec.name), v1);

      const mount = { type: 'volume' as const, source: spec.name, target: '/data', readOnly: false };
      const { id } = await engine.createContainer(c.spec('voluser', { mounts: [mount] }));
      const busy = await rejectsCode(engine.removeVolume(spec.name), 'CMESH_E_ENGINE');
      assert.equal(busy.details.reason, 'in-use');
      await engine.removeContainer(id);
      await engine.removeVolume(spec.name);
      await engine.removeVolume(spec.name);
      assert.equal(await engine.inspectVolume(spec.name), undefined);
    });
  });

  describe('images and builds', () => {
    it('builds a tagged, labelled image with its EXPOSE ports; inspectImage is undefined when absent; removeImage twice', async () => {
      const { engine, project } = c.h;
      const tag = `${project}-img:latest`;
      const labels: Record<string, string> = { ...c.labels(), 'dev.cmesh.contract': 'built' };
      const progress = await collect(
        engine.buildImage({ context: tarOf({ Dockerfile: `FROM ${c.h.image}\nEXPOSE 5432 53/udp\nRUN echo built\n` }), dockerfile: 'Dockerfile', tags: [tag], labels }),
      );
      assert.deepEqual(
        progress.filter((p) => p.kind === 'step').map((p) => (p.kind === 'step' ? `${p.step}/${p.total} ${p.text}` : '')),
        // The engine adds build-parameter labels as LABEL steps, sorted by key (why the builder writes its own line).
        [`FROM ${c.h.image}`, 'EXPOSE 5432 53/udp', 'RUN echo built', ...Object.keys(labels).sort().map((k) => `LABEL ${k}=${labels[k]}`)].map(
          (text, i, all) => `${i + 1}/${all.length} ${text}`,
        ),
      );
      assert.ok(progress.some((p) => p.kind === 'output' && p.text === 'built'));
      const done = progress.at(-1);
      assert.equal(done?.kind, 'done');
      const img = await engine.inspectImage(tag);
      assert.ok(img);
      assert.equal(img.id, done.kind === 'done' ? done.imageId : '');
      assert.ok(img.tags.includes(tag));
      assert.equal(img.labels['dev.cmesh.contract'], 'built');
      // EXPOSE lands in the image's config (east-west meshes those ports); the base image's own, if any, come along.
      const mine = img.exposedPorts.filter((p) => p.port === 5432 || p.port === 53);
      assert.deepEqual(mine, [
        { port: 53, protocol: 'udp' },
        { port: 5432, protocol: 'tcp' },
      ]);
      assert.equal(await engine.inspectImage(`${project}-nope:latest`), undefined);
      await engine.removeImage(tag);
      await engine.removeImage(tag);
      assert.equal(await engine.inspectImage(tag), undefined);
    });

    it('lists images by label; removeImage refuses an image a stopped container uses (in-use), then removes it', async () => {
      const { engine, project } = c.h;
      const tag = `${project}-gc:latest`;
      const labels: Record<string, string> = { ...c.labels(), 'dev.cmesh.contract': `gc-${project}` };
      await collect(engine.buildImage({ context: tarOf({ Dockerfile: `FROM ${c.h.image}\nRUN echo gc\n` }), dockerfile: 'Dockerfile', tags: [tag], labels }));
      const listed = await engine.listImages({ 'dev.cmesh.contract': `gc-${project}` });
      assert.deepEqual(listed.map((i) => i.tags), [[tag]]);
      assert.equal(listed[0]!.labels['dev.cmesh.contract'], `gc-${project}`);
      assert.deepEqual(await engine.listImages({ 'dev.cmesh.contract': `gc-${project}-none` }), []);
      const { id } = await engine.createContainer(c.spec('imguser', { image: tag }));
      const busy = await rejectsCode(engine.removeImage(tag), 'CMESH_E_ENGINE');
      assert.equal(busy.details.reason, 'in-use');
      assert.ok(await engine.inspectImage(tag), 'a refused removal leaves the image');
      await engine.removeContainer(id, { force: true });
      await engine.removeImage(tag);
      assert.equal(await engine.inspectImage(tag), undefined);
      assert.deepEqual(await engine.listImages({ 'dev.cmesh.contract': `gc-${project}` }), []);
    });

    it('images carry when built and last tagged; tagImage refreshes it; one of two tags is untagged even while in use', async () => {
      const { engine, project } = c.h;
      const tag = `${project}-tagged:one`;
      const other = `${project}-tagged:two`;
      const labels: Record<string, string> = { ...c.labels(), 'dev.cmesh.contract': `tag-${project}` };
      const before = Date.now();
      await collect(engine.buildImage({ context: tarOf({ Dockerfile: `FROM ${c.h.image}\nRUN echo tag\n` }), dockerfile: 'Dockerfile', tags: [tag], labels }));
      const after = Date.now();
      // The list says when it was built (to the second), inspect when it was last tagged too (a gateway's claim).
      const [listed] = await engine.listImages({ 'dev.cmesh.contract': `tag-${project}` });
      assert.ok(listed?.created !== undefined && listed.created >= before - 1000 && listed.created <= after, `created ${listed?.created} in [${before}, ${after}]`);
      const built = await engine.inspectImage(tag);
      assert.ok(built?.lastTagTime !== undefined && built.lastTagTime >= before - 1000 && built.lastTagTime <= after + 1000, `lastTagTime ${built?.lastTagTime}`);
      assert.ok(built.created !== undefined && Math.abs(built.created - listed.created) < 1000);
      await new Promise((r) => setTimeout(r, 50));
      await engine.tagImage(tag, tag);
      const touched = await engine.inspectImage(tag);
      assert.ok(touched?.lastTagTime !== undefined && touched.lastTagTime > built.lastTagTime, 'tagging again with the same tag refreshes lastTagTime');
      assert.equal(touched.id, built.id);
      await engine.tagImage(tag, other);
      assert.deepEqual((await engine.inspectImage(other))?.tags.sort(), [tag, other].sort());
      const { id } = await engine.createContainer(c.spec('tagged', { image: tag }));
      try {
        // Not refused: the image keeps its other tag, so a remover cannot rely on the engine to see the container.
        await engine.removeImage(tag);
        assert.equal(await engine.inspectImage(tag), undefined);
        assert.deepEqual((await engine.inspectImage(other))?.tags, [other]);
        const ours = (await engine.listContainers({ labels: c.labels() })).find((x) => x.id === id);
        assert.ok(ours?.imageId === built.id || ours?.image === built.id, `the container still names the image by id: ${ours?.image} ${ours?.imageId}`);
        const busy = await rejectsCode(engine.removeImage(other), 'CMESH_E_ENGINE');
        assert.equal(busy.details.reason, 'in-use');
      } finally {
        await engine.removeContainer(id, { force: true });
      }
      await engine.removeImage(other);
      assert.equal(await engine.inspectImage(other), undefined);
      await rejectsCode(engine.tagImage(other, tag), 'CMESH_E_ENGINE');
    });

    it('fails a build on a failing RUN (an error line, whatever the HTTP status) naming the step and its output', async () => {
      const { engine, project } = c.h;
      const seen: BuildProgress[] = [];
      const err = await rejectsCode(
        collect(
          engine.buildImage({
            context: tarOf({ Dockerfile: `FROM ${c.h.image}\nRUN echo about to fail && exit 3\n` }),
            dockerfile: 'Dockerfile',
            tags: [`${project}-fail:latest`],
            labels: c.labels(),
            labelsInDockerfile: true, // as the builder sends them: no LABEL steps appended
          }),
          seen,
        ),
        'CMESH_E_BUILD_FAILED',
      );
      assert.equal(err.details.step, 2);
      assert.equal(err.details.total, 2);
      assert.match(String(err.details.instruction), /^RUN echo about to fail/);
      assert.ok((err.details.output as string[]).includes('about to fail'));
      assert.match(err.message, /step 2\/2.*returned a non-zero code: 3/);
      assert.equal(seen.at(-1)?.kind, 'error');
      assert.equal(await engine.inspectImage(`${project}-fail:latest`), undefined);
    });
  });
}
