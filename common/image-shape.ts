// SPDX-License-Identifier: MIT
/**
 * @file The one image-shape type of the project, [channels, height, width], with its size and the
 * run-time checks. Training, the noise, the corruptions and the server all describe images with it.
 */
/** Image shape [channels, height, width]; batches are stored image after image. */
export type ImageShape = readonly [channels: number, height: number, width: number];

export function shapeSize(shape: ImageShape): number {
  return shape[0] * shape[1] * shape[2];
}

/** Checks at run time what the type cannot: three positive integers (shapes also arrive as JSON). */
export function assertImageShape(shape: ImageShape): void {
  if ((shape as readonly number[]).length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`image shape must be three positive integers [C, H, W], got [${shape.join(', ')}]`);
  }
}

/** Checks the shape (assertImageShape) and that `length` values fill exactly one C×H×W image. */
export function assertImageLength(length: number, shape: ImageShape): void {
  assertImageShape(shape);
  if (length !== shapeSize(shape)) {
    throw new RangeError(`image has ${length} values, shape [${shape.join(', ')}] needs ${shapeSize(shape)}`);
  }
}
