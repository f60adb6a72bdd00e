/**
 * Per-image brightness and contrast on the backend. With factor c and offset b per image,
 * out = (x − m)·c + m + b, where m is the image's mean per channel: contrast scales deviations
 * about the mean (the mean itself is kept), brightness then shifts everything. No clipping.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Per-image brightness (added) and contrast (factor about each image's channel means), one value of each per image.
 */
export function adjustBrightnessContrast(
  images: tf.Tensor4D,
  brightness: ArrayLike<number>,
  contrast: ArrayLike<number>,
): tf.Tensor4D {
  const n = images.shape[0];
  if (brightness.length !== n || contrast.length !== n) {
    throw new RangeError(
      `adjustBrightnessContrast: need ${n} brightness and contrast values, got ${brightness.length} and ` +
        `${contrast.length}`,
    );
  }
  return tf.tidy(() => {
    const x = images.dtype === 'float32' ? images : tf.cast(images, 'float32');
    const b = tf.tensor4d(Float32Array.from(brightness), [n, 1, 1, 1]);
    const c = tf.tensor4d(Float32Array.from(contrast), [n, 1, 1, 1]);
    const mean = tf.mean(x, [1, 2], true);
    return tf.add(tf.add(tf.mul(tf.sub(x, mean), c), mean), b) as tf.Tensor4D;
  });
}
