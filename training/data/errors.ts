// SPDX-License-Identifier: MIT

/** A dataset that cannot be loaded: bad path, empty folder, malformed files, bad spec. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}
