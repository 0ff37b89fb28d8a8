import Testing
@testable import JourneyCore

@Suite("IdentityPolicy")
struct IdentityPolicyTests {
    let loyalty = IdentifierType(rawValue: "loyalty_id")
    let crm = IdentifierType(rawValue: "crm_id")

    @Test func defaults() throws {
        let policy = try IdentityPolicy()
        #expect(policy.priority == [.userID, .email, .phone, .deviceID, .anonymousID])
        #expect(policy.limit(for: .userID) == 1)
        #expect(policy.limit(for: .email) == 5)
        #expect(policy.limit(for: .phone) == 5)
        #expect(policy.limit(for: .deviceID) == nil)
        #expect(policy.limit(for: .anonymousID) == nil)
        #expect(policy.rank(of: .userID) == 0)
        #expect(policy.rank(of: .anonymousID) == 4)
        // A type the policy does not know ranks after every known one and is unlimited.
        #expect(policy.rank(of: loyalty) == 5)
        #expect(policy.limit(for: loyalty) == nil)
    }

    @Test func customTypesGoAlphabeticallyBetweenPhoneAndDevice() throws {
        let policy = try IdentityPolicy(customTypes: [loyalty, crm])
        #expect(policy.priority == [.userID, .email, .phone, crm, loyalty, .deviceID, .anonymousID])
        #expect(policy.limit(for: loyalty) == IdentityPolicy.defaultCustomLimit)
        #expect(policy.limit(for: crm) == 3)
    }

    @Test func limitOverrides() throws {
        let policy = try IdentityPolicy(customTypes: [loyalty], limitOverrides: [.userID: 2, .email: 0, .deviceID: 4, loyalty: 1])
        #expect(policy.limit(for: .userID) == 2)
        #expect(policy.limit(for: .email) == nil)  // 0 = unlimited
        #expect(policy.limit(for: .deviceID) == 4)
        #expect(policy.limit(for: loyalty) == 1)
        #expect(policy.limit(for: .phone) == 5)
    }

    @Test func configuredPriorityIsFollowedByTheRestAlphabetically() throws {
        let policy = try IdentityPolicy(customTypes: [loyalty], configuredPriority: [.email, .userID])
        #expect(policy.priority == [.email, .userID, .anonymousID, .deviceID, loyalty, .phone])
        #expect(policy.rank(of: .email) == 0 && policy.rank(of: .phone) == 5)
        let full = try IdentityPolicy(configuredPriority: [.deviceID, .anonymousID, .phone, .email, .userID])
        #expect(full.priority == [.deviceID, .anonymousID, .phone, .email, .userID])
    }

    @Test func invalidSettingsAreErrors() {
        #expect(throws: IdentityPolicyError.unknownType(loyalty, known: IdentifierType.builtIn)) {
            try IdentityPolicy(limitOverrides: [loyalty: 2])
        }
        #expect(throws: IdentityPolicyError.unknownType(loyalty, known: IdentifierType.builtIn)) {
            try IdentityPolicy(configuredPriority: [.userID, loyalty])
        }
        #expect(throws: IdentityPolicyError.negativeLimit(.email)) {
            try IdentityPolicy(limitOverrides: [.email: -1])
        }
        #expect(throws: IdentityPolicyError.duplicatePriority) {
            try IdentityPolicy(configuredPriority: [.email, .userID, .email])
        }
        let message = IdentityPolicyError.unknownType(loyalty, known: [.userID, .email]).description
        #expect(message == #"unknown identifier type "loyalty_id" (known: user_id, email)"#)
    }

    @Test func customTypeNames() {
        #expect(IdentifierType.isValidCustomName("loyalty_id"))
        #expect(IdentifierType.isValidCustomName("crm2"))
        #expect(!IdentifierType.isValidCustomName("Loyalty"))
        #expect(!IdentifierType.isValidCustomName("2fa"))
        #expect(!IdentifierType.isValidCustomName("_x"))
        #expect(!IdentifierType.isValidCustomName("loyalty-id"))
        #expect(!IdentifierType.isValidCustomName(""))
    }
}
