import Testing
@testable import LfosaNumerics

@Suite struct BLASKernelsTests {
    @Test func fallbackFamiliesAreUpgradedToWhatTheCPUSupports() {
        #expect(BLASKernels.upgradeTarget(current: "Prescott", vectorLevel: 2, environmentCoreType: nil) == "SkylakeX")
        #expect(BLASKernels.upgradeTarget(current: "Prescott", vectorLevel: 1, environmentCoreType: nil) == "Haswell")
        #expect(BLASKernels.upgradeTarget(current: "Sandybridge", vectorLevel: 1, environmentCoreType: "") == "Haswell")
        #expect(BLASKernels.upgradeTarget(current: "Core2", vectorLevel: 0, environmentCoreType: nil) == nil)
    }

    @Test func recognisedCPUsAndTheUsersChoiceAreLeftAlone() {
        #expect(BLASKernels.upgradeTarget(current: "Haswell", vectorLevel: 2, environmentCoreType: nil) == nil)
        #expect(BLASKernels.upgradeTarget(current: "Zen", vectorLevel: 2, environmentCoreType: nil) == nil)
        #expect(BLASKernels.upgradeTarget(current: "SkylakeX", vectorLevel: 2, environmentCoreType: nil) == nil)
        #expect(BLASKernels.upgradeTarget(current: "Prescott", vectorLevel: 2, environmentCoreType: "Prescott") == nil)
        var called = false
        let switched = BLASKernels.upgradeFallbackKernels(environmentCoreType: "Haswell") { _ in called = true }
        #expect(switched == nil)
        #expect(!called)
    }

    @Test func reportsTheLoadedKernelFamily() {
        #expect(!BLASKernels.coreName.isEmpty)
        #expect((0...2).contains(BLASKernels.cpuVectorLevel))
    }
}
