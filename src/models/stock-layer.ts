import * as tf from '@tensorflow/tfjs';

/** Marks a class registered in place of a stock tfjs-layers class under the same name. */
const REPLACES_STOCK = Symbol('gzh.replacesStockLayer');

type LayerClass<A> = new (args: A) => tf.layers.Layer;

/**
 * tfjs-layers' own class registered for deserialization under `className` (looking through a
 * replacement registered by {@link registerStockReplacement}, so loading this module twice
 * still subclasses the stock class).
 */
export function stockLayerClass<A>(className: string): LayerClass<A> {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) throw new Error(`tfjs-layers has no ${className} registered`);
  let cls = entry[0] as unknown as object;
  while (Object.prototype.hasOwnProperty.call(cls, REPLACES_STOCK)) cls = Object.getPrototypeOf(cls) as object;
  return cls as LayerClass<A>;
}

/**
 * Registers `cls` (a subclass of a stock layer with the same static className) for
 * deserialization: saved models keep the stock class name, so plain TensorFlow.js loads them,
 * and models loaded here get the subclass.
 */
export function registerStockReplacement(cls: object): void {
  Object.defineProperty(cls, REPLACES_STOCK, { value: true });
  tf.serialization.registerClass(cls as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
