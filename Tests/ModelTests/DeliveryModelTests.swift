import Foundation
@testable import Model
import Testing

@Suite("Delivery addressing and node envelopes")
struct DeliveryModelTests {
    @Test("online_{uid} values: node and connection, split at the last colon")
    func targets() {
        #expect(DeliveryTarget("host-1-abc:42") == DeliveryTarget(node: "host-1-abc", connection: 42))
        #expect(DeliveryTarget(node: "n.1", connection: 7).description == "n.1:7")
        for bad in ["", ":", "node", "node:", ":5", "node:x", "node:-1"] {
            #expect(DeliveryTarget(bad) == nil, "\(bad)")
        }
    }

    @Test("envelopes round-trip, including the form lua/deliver.lua writes")
    func envelopes() {
        let message = Array(#"{"id":"x","data":"换行\n和 空格"}"#.utf8)
        let cases: [NodeEnvelope] = [
            .deliver(to: [ConnectionAddress(user: 12, connection: 3)], message: message, sequence: 0),
            .deliver(to: [ConnectionAddress(user: 1, connection: 1), ConnectionAddress(user: 2, connection: 9)], message: message, sequence: 18_446_744_073_709_551_615),
            .deliver(to: [ConnectionAddress(user: 12, connection: 3)], message: message, sequence: 41),
            .kick(ConnectionAddress(user: 5, connection: 77)),
            .flush(ConnectionAddress(user: 6, connection: 78)),
        ]
        for envelope in cases {
            #expect(NodeEnvelope(envelope.encoded()) == envelope)
        }
        // What the scripts publish: 'deliver ' .. uid .. ':' .. conn .. ' ' .. sequence .. '\n' .. message.
        #expect(NodeEnvelope(Array("deliver 12:3 41\n".utf8) + message) == cases[2])
        #expect(Array(cases[2].encoded()) == Array("deliver 12:3 41\n".utf8) + message)
        #expect(NodeEnvelope(Array("deliver 12:3\n".utf8) + message) == cases[0])
        #expect(Array(NodeEnvelope.kick(ConnectionAddress(user: 5, connection: 77)).encoded()) == Array("kick 5:77\n".utf8))
    }

    @Test("malformed envelopes are refused", arguments: [
        "", "deliver", "deliver 1:2", "deliver 1:2\n", "deliver x:2\n{}", "send 1:2\n{}", "kick 1:2,3:4\n", "kick\n", "flush 1\n",
        "deliver 1:2 0\n{}", "deliver 1:2 -3\n{}", "deliver 1:2 x\n{}", "deliver 1:2 3 4\n{}", "deliver 1:2  3\n{}", "deliver  1:2\n{}",
        "kick 1:2 5\n", "flush 1:2 5\n",
    ])
    func malformed(text: String) {
        #expect(NodeEnvelope(Array(text.utf8)) == nil)
    }

    @Test("encodeURIComponent as JavaScript does it")
    func uriComponent() {
        #expect(URIComponent.encode("我的二维码") == "%E6%88%91%E7%9A%84%E4%BA%8C%E7%BB%B4%E7%A0%81")
        #expect(URIComponent.encode("/pages/xiaoxi/xiaoxi") == "%2Fpages%2Fxiaoxi%2Fxiaoxi")
        #expect(URIComponent.encode("a-z_A.Z!~*'()0 9&=?#+") == "a-z_A.Z!~*'()0%209%26%3D%3F%23%2B")
        #expect(URIComponent.encode("😀") == "%F0%9F%98%80")
    }

    @Test("decodeURIComponent as JavaScript does it: nil where it throws URIError")
    func uriComponentDecoding() {
        #expect(URIComponent.decode("%7B%22a%22%3A1%7D") == #"{"a":1}"#)
        #expect(URIComponent.decode("%E4%B8%AD+a%2b") == "中+a+")
        #expect(URIComponent.decode("plain 中文") == "plain 中文")
        for text in ["%", "%4", "%ZZ", "%E4%B8", "%FF", "a%2"] {
            #expect(URIComponent.decode(text) == nil, "\(text)")
        }
        for text in ["我的二维码", "😀 & = ?", ""] {
            #expect(URIComponent.decode(URIComponent.encode(text)) == text)
        }
    }

    @Test("a system notice has the message object's fields, data wrapped, extras last")
    func systemNotice() throws {
        var notice = SystemNotice(
            id: "n1", from: .init(id: "redirect-x-1", name: "系统", avatar: "a"), to: .init(id: 7, name: "b", avatar: "c"),
            text: "你好", createTime: 5
        )
        notice.extra = [("msgidKey", "redirect-x-1")]
        let object = try JSONParser.parse(notice.bytes).objectValue
        #expect(object?.keys == [
            "id", "from_id", "from_name", "from_avatar", "to_id", "to_name", "to_avatar", "chatType", "type", "data", "options",
            "create_time", "isremove", "msgidKey",
        ])
        #expect(object?["data"] == ["data": "你好", "dataType": false, "otherData": nil])
        #expect(object?["type"] == "systemNotice" && object?["to_id"] == 7)
    }
}

@Suite("Message ids")
struct MessageIDTests {
    @Test("a UUID v4 in lower case, different every time")
    func uuidV4() {
        let ids = (0..<1000).map { _ in MessageID.random() }
        #expect(Set(ids).count == 1000)
        for id in ids.prefix(50) {
            #expect(id.range(of: #"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"#, options: .regularExpression) != nil, "\(id)")
        }
        #expect(MessageID.format(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
        #expect(MessageID.format(high: .max, low: .max) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
    }
}
