import { describe, expect, it } from 'vitest';
import { AugmentConfigError } from '../../src/augment/config.js';
import { parseBackendName } from '../../src/backend/select.js';
import { EXIT, exitCodeFor } from '../../src/cli/exit.js';
import { PredictInputError } from '../../src/ensemble/predictor.js';
import { ConfigError, CorruptArtifactError, InputError, InterruptedError } from '../../src/errors.js';
import { ConfigError as ExperimentConfigError } from '../../src/experiments/config.js';
import { RunNotFoundError } from '../../src/experiments/registry.js';

describe('exit codes by error kind', () => {
  it('maps the library errors by the kind they extend, not by a field', () => {
    const cases: Array<[Error, number]> = [
      [new AugmentConfigError('zoom', 'must be ≥ 1'), EXIT.usage],
      [new ExperimentConfigError('x.json', ['seed: expected a number']), EXIT.usage],
      [new RunNotFoundError('abc'), EXIT.usage],
      [new PredictInputError('a.jpg', 'not a JPEG'), EXIT.usage],
      [new CorruptArtifactError('/m/weights.bin', 'checksum mismatch', 'delete the model folder'), EXIT.failed],
      [new InterruptedError(), EXIT.interrupted],
      [new Error('plain'), EXIT.failed],
    ];
    for (const [error, code] of cases) expect(exitCodeFor(error), error.name).toBe(code);
    expect(new AugmentConfigError('zoom', 'x')).toBeInstanceOf(ConfigError);
    expect(new RunNotFoundError('abc')).toBeInstanceOf(InputError);
    expect(new AugmentConfigError('zoom', 'x').name).toBe('AugmentConfigError');
  });

  it('an unknown backend name is bad input', () => {
    expect(() => parseBackendName('gpu', '--backend')).toThrow(InputError);
  });
});
