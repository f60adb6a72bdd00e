/**
 * The switch for the fused native training ops (src/backend/native-conv.ts, the Relu gradient in
 * src/backend/native-kernels.ts): on unless `GZH_FUSED_KERNELS=0`. Read at each call, so a
 * benchmark can time both paths in one process; off, the stock tfjs ops run.
 */
export function fusedKernelsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GZH_FUSED_KERNELS !== '0';
}
