extension ImagePool {
    /// An RGB copy of item `i` at display resolution for the terminal renderer.
    ///
    /// Items with a source path (image folders, CSV) are decoded again from the original
    /// file and scaled to fit inside `maxWidth × maxHeight` keeping aspect (never enlarged
    /// beyond the original). Packed items (CIFAR, IDX) have no original: their stored
    /// pixels are returned as RGB (grey repeated) at the stored size. Throws when the
    /// original file is gone or no longer decodes.
    public func displayImage(at i: Int, maxWidth: Int, maxHeight: Int, limits: DecodeLimits = .default) throws(DataError) -> RasterImage {
        precondition(i >= 0 && i < count, "item index out of range")
        guard let path = paths[i] else { return raster(at: i).rgb() }
        let decoder = ImageFileDecoder(limits: limits)
        let decoded = try decoder.decodeFile(path, target: .fit(width: maxWidth, height: maxHeight))
        return Resampler.fit(decoded.image, maxWidth: maxWidth, maxHeight: maxHeight, enlarge: false)
    }
}
