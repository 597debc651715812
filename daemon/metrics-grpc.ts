// gRPC metrics: calls through h2c listeners by the `grpc-status` their replica answered (trailers or trailers-only).

import client from 'prom-client';

/** The 17 status codes of the gRPC spec; anything else a replica sends is counted as `other` (bounded labels). */
const CODES = new Set(Array.from({ length: 17 }, (_, i) => String(i)));

/** Registers the counter; returns what to call for every finished request that carried a grpc-status. */
export function registerGrpcMetrics(registers: client.Registry[]): (project: string, service: string, grpcStatus: string) => void {
  const calls = new client.Counter({
    name: 'cmesh_grpc_responses_total',
    help: 'gRPC calls through a published port, by the grpc-status the replica answered (0 = OK).',
    labelNames: ['project', 'service', 'grpc_status'],
    registers,
  });
  return (project, service, grpcStatus) => calls.inc({ project, service, grpc_status: CODES.has(grpcStatus) ? grpcStatus : 'other' });
}
