/** Registers every equivariant layer for deserialization (imported by the model loader). */
import './cyclic-slice.js';
import './cyclic-roll.js';
import './cyclic-pool.js';
import './kaggle-views.js';
import './group-conv.js';
import './group-pool.js';
