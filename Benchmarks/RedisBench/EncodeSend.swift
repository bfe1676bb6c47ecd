import ChatScripts
import Foundation
import Model
import RedisClient

/// The client's own work for one single-chat send, without Redis: building the
/// `EVALSHA` command and reading the `local` reply, the way the bridge did with
/// positional arrays (`[any RedisArgument]`, the reply as a tree read by index) and the
/// way it does with the contract (`SendSingleMessage`: arguments written straight into
/// the command, the reply read from the flat tape). Prints ns per send for each.
enum EncodeSend {
    static let sha = String(repeating: "a", count: 40)
    static let settings = SendSettings(
        clientIDWindow: 300, historyCap: 1000, streamCap: 5_000_000, node: "n0123456789ab", deadAfter: 15000, queueCap: 5000,
        queueByteCap: 16 << 20
    )
    static let data = Array("\"#0:12:345678:1000000345678\"".utf8)
    static let options = Array("null".utf8)
    static let message = Array(
        (##"{"id":"0b9f6c2e-8d1a-4a3b-9c5d-2e7f1a0b3c4d","from_id":1001,"from_name":"alice","from_avatar":"","to_id":1002,"##
            + ##""to_name":"bob","to_avatar":"","chatType":"single","type":"text","data":"#0:12:345678:1000000345678","##
            + ##""options":null,"create_time":1700000000000,"isremove":0,"sendUUid":"u-1001"}"##).utf8
    )
    static let reply = RedisFlatReply(.array([
        .bulk(Array("local".utf8)), .bulk(Array("42".utf8)), .bulk(message), .integer(0), .integer(17),
    ]))

    /// Alternating rounds (the first only warms up); prints each, then the medians.
    static func run(iterations: Int, rounds: Int = 7) {
        var sink = 0
        var positionals: [Double] = []
        var contracts: [Double] = []
        for round in 0..<rounds {
            let positional = measure(iterations) { number in
                let command = positionalCommand(number)
                let tree = reply.reply
                guard let parts = tree.array, parts.count == 4 || parts.count == 5, let body = parts[2].bytes,
                      parts[0].string == "local", let connection = parts[1].string.flatMap({ UInt64($0) }),
                      let after = parts[4].integer
                else { fatalError("positional reply") }
                return command.encoded.count + body.count + Int(connection) + Int(after)
            }
            let contract = measure(iterations) { number in
                let command = contractCall(number).command("EVALSHA", sha)
                guard case .accepted(let body, .local(let connection, let after), _) = try? SendSingleMessage.decode(reply) else {
                    fatalError("contract reply")
                }
                return command.encoded.count + body.count + Int(connection) + Int(after)
            }
            sink &+= positional.sink &+ contract.sink
            print(String(format: "round %d: positional=%.0f contract=%.0f ns/send", round, positional.nanoseconds, contract.nanoseconds))
            if round > 0 {
                positionals.append(positional.nanoseconds)
                contracts.append(contract.nanoseconds)
            }
        }
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        let (p, c) = (median(positionals), median(contracts))
        print(String(format: "positional=%.0f contract=%.0f ns/send (contract/positional %.2f)", p, c, c / p))
        if sink == 42 { print("") }
    }

    private static func measure(_ iterations: Int, _ body: (Int) -> Int) -> (nanoseconds: Double, sink: Int) {
        let clock = ContinuousClock()
        var sink = 0
        let elapsed = clock.measure {
            for number in 0..<iterations { sink &+= body(number) }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (seconds * 1e9 / Double(iterations), sink)
    }

    /// The command as `MessageSender.invocation` and `RedisScripts.run(_:keys:arguments:)`
    /// built it before the contracts.
    private static func positionalCommand(_ number: Int) -> RedisCommand {
        let me = 1001 + number % 100
        let to = 2001 + number % 100
        let clientID = "w1-" + String(number)
        let keys: [any RedisArgument] = [
            RedisKeys.userToken(me), RedisKeys.user(me), RedisKeys.user(to), RedisKeys.friends(to), RedisKeys.friends(me),
            RedisKeys.quota(me), RedisKeys.singleHistory(owner: me, peer: to), RedisKeys.singleHistory(owner: to, peer: me),
            StreamName.messages, RedisKeys.online(to), RedisKeys.offlineQueue(to), RedisKeys.nodes,
            RedisKeys.sentByClientID(me, clientID), RedisKeys.nodeDeliveries,
        ]
        let arguments: [any RedisArgument] = [
            messageID(number), String(me), String(to), "text", data, options, "token-\(me)", clientID, "300", "1000",
            "5000000", "n0123456789ab", "15000", "5000", RedisKeys.nodeStreamPrefix, "",
        ]
        var command = RedisCommandArguments("EVALSHA")
        sha.append(to: &command)
        command.append(keys.count)
        for key in keys { key.append(to: &command) }
        for argument in arguments { argument.append(to: &command) }
        return RedisCommand(arguments: command)
    }

    /// A message id of the usual length, not random: both sides pay the same for it.
    private static func messageID(_ number: Int) -> String {
        "0b9f6c2e-8d1a-4a3b-9c5d-" + String(100_000_000_000 + number)
    }

    private static func contractCall(_ number: Int) -> SendSingleMessage {
        let me = 1001 + number % 100
        return SendSingleMessage(
            messageID: messageID(number), sender: me, recipient: 2001 + number % 100, type: "text", data: data,
            options: options, uncheckedToken: "token-\(me)", clientID: "w1-" + String(number), isAutoReply: false,
            settings: settings
        )
    }
}
