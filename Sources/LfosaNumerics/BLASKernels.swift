import CBLAS

/// Which OpenBLAS kernel family runs the numeric core's matrix products.
///
/// OpenBLAS (DYNAMIC_ARCH builds, as Debian's) picks its kernels when it loads, from the CPU
/// model. A CPU it does not know — Debian 12's 0.3.21 on a Sapphire Rapids virtual machine, say
/// — gets the generic SSE3 "Prescott" kernels, 2.7× slower on training here, although the CPU
/// runs AVX-512. `upgradeFallbackKernels` detects that case and re-runs OpenBLAS's selection
/// with the family the CPU's features (and the OS's saved vector state) support.
public enum BLASKernels {
    /// The kernel family in use ("Haswell", "SkylakeX", "Prescott", …).
    public static var coreName: String { String(cString: lfosa_blas_corename()) }

    /// Vector level of this CPU and OS: 2 = AVX-512 (F/CD/BW/DQ/VL), 1 = AVX2 + FMA, 0 = neither.
    public static var cpuVectorLevel: Int { Int(lfosa_cpu_vector_level()) }

    /// Families without AVX2 kernels: what OpenBLAS falls back to on a CPU it does not recognise.
    static let preAVX2Families: Set<String> = [
        "prescott", "katmai", "coppermine", "northwood", "banias", "atom", "core2", "penryn", "dunnington",
        "nehalem", "sandybridge", "nano", "athlon", "opteron", "opteron_sse3", "barcelona", "bobcat",
        "bulldozer", "piledriver", "steamroller", "excavator", "unknown",
    ]

    /// The family to switch to, or nil to keep the current one: only when OpenBLAS fell back to
    /// a pre-AVX2 family on a CPU with AVX2 (→ "Haswell") or AVX-512 (→ "SkylakeX"), and only
    /// when the user has not chosen one with `OPENBLAS_CORETYPE`.
    public static func upgradeTarget(current: String, vectorLevel: Int, environmentCoreType: String?) -> String? {
        if let chosen = environmentCoreType, !chosen.isEmpty { return nil }
        guard preAVX2Families.contains(current.lowercased()) else { return nil }
        switch vectorLevel {
        case 2...: return "SkylakeX"
        case 1: return "Haswell"
        default: return nil
        }
    }

    /// Switches OpenBLAS to `upgradeTarget` when there is one. Call once at process start-up,
    /// before any matrix product; `setEnvironment` must set `OPENBLAS_CORETYPE` (OpenBLAS reads
    /// the choice from there). Returns (from, to) when it switched.
    @discardableResult
    public static func upgradeFallbackKernels(environmentCoreType: String?,
                                              setEnvironment: (String) -> Void) -> (from: String, to: String)? {
        let current = coreName
        guard let target = upgradeTarget(current: current, vectorLevel: cpuVectorLevel,
                                         environmentCoreType: environmentCoreType) else { return nil }
        setEnvironment(target)
        guard lfosa_blas_reselect_core() != 0 else { return nil }
        let now = coreName
        return now.lowercased() == current.lowercased() ? nil : (current, now)
    }
}
