// Module LfosaData: image decoding/encoding and dataset sources.
//
// May import: CPNG, CTurboJPEG, CZlib (through their shims), Foundation, Dispatch, Glibc.
// Must not import other lfosa modules.
//
// Entry points:
// - `DatasetLoader.load(spec:options:)` / `DatasetLoader.load(_:options:)`: any `Source`
//   (image folder, CSV manifest, CIFAR-10/100 binary, IDX/MNIST/Fashion-MNIST) into a
//   `LoadedDataset` (train `ImagePool`, optional test pool, skipped files), through the
//   decode cache when `LoadOptions.cacheDirectory` is set.
// - `OpenSetSplit.make(...)`: the seeded known/unknown split used by simulate and demo.
// - `ImagePool.displayImage(at:maxWidth:maxHeight:)`: RGB copy for the terminal.
// - `PNGCodec`, `JPEGDecoder`, `JPEGCodec`, `Resampler`: single images.
// Errors: `DataError` (one line, `PATH: problem`).
