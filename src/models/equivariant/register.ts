/** Registers every equivariant layer for deserialization (imported by the model loader). */
import './cyclic-slice.js';
import './cyclic-roll.js';
import './cyclic-pool.js';
import './kaggle-views.js';
import './group-conv.js';
import './group-pool.js';

/** The class names the equivariant layers are saved under. */
export const EQUIVARIANT_LAYER_CLASSES = ['CyclicSlice', 'CyclicRoll', 'CyclicPool', 'KaggleViews', 'GroupConv2D', 'GroupPool'] as const;
