"""A person at a free seat of a running demo, as a client that is not ours (Python
grpcio, the contract learnt by reflection): log in, go ready, and time how long until
the first offer rings; answer, hang up, wrap up, go ready again; N times. A 回访
call-back task is made like a call: its wrap-up says whether the customer answered.

Usage: seat_probe.py HOST:PORT [SEAT] [ROUNDS]   (default seat 2001, 3 rounds)
Prints one JSON line: the seconds from ready to each offer.
"""

import json
import queue
import sys
import time

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def main(addr, seat, rounds):
    channel = grpc.insecure_channel(addr)
    grpc.channel_ready_future(channel).result(timeout=10)
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    agent = pool.FindServiceByName("callcenter.v1.AgentService")
    cls = lambda m: message_factory.GetMessageClass(m)  # noqa: E731
    login_m, session_m = agent.FindMethodByName("Login"), agent.FindMethodByName("Session")
    login = channel.unary_unary(
        "/callcenter.v1.AgentService/Login",
        request_serializer=cls(login_m.input_type).SerializeToString,
        response_deserializer=cls(login_m.output_type).FromString,
    )
    token = login(cls(login_m.input_type)(agent_id=seat, password="hotline-demo")).token
    Command = cls(session_m.input_type)
    WrapUp = cls(pool.FindMessageTypeByName("callcenter.v1.WrapUp"))
    Result = cls(pool.FindMessageTypeByName("callcenter.v1.CallBackResult"))
    session = channel.stream_stream(
        "/callcenter.v1.AgentService/Session",
        request_serializer=Command.SerializeToString,
        response_deserializer=cls(session_m.output_type).FromString,
    )
    out = queue.Queue()
    n = [0]

    def send(**kw):
        n[0] += 1
        out.put(Command(command_id=n[0], **kw))

    def commands():
        while True:
            c = out.get()
            if c is None:
                return
            yield c

    events = session(commands(), metadata=[("authorization", f"Bearer {token}")])
    waits, kinds, ready_at = [], [], None
    call_back, reached = False, False
    send(ready=True)
    ready_at = time.monotonic()
    for ev in events:
        kind = ev.WhichOneof("event")
        if kind == "heartbeat":
            send(heartbeat_ack=ev.heartbeat)
        elif kind == "offer":
            waits.append(round(time.monotonic() - ready_at, 1))
            call_back, reached = ev.offer.HasField("call_back_task"), False
            kinds.append("call-back" if call_back else ev.offer.queue)
            send(answer=True)
        elif kind == "customer_line":
            reached = reached or ev.customer_line == 2  # CUSTOMER_LINE_ANSWERED
        elif kind == "connected":
            time.sleep(2)
            send(hang_up=True)
        elif kind == "conversation_ended":
            if call_back:
                done = "called-back" if reached else "call-back-no-answer"
                outcome = Result(reached=reached, satisfaction=4 if reached else 0, solved=True)
                send(wrap_up=WrapUp(disposition=done, reason="call-back.general", call_back=outcome))
            else:
                send(wrap_up=WrapUp(disposition="answered", reason="inquiry.general"))
            if len(waits) >= rounds:
                send(logout=True)
            else:
                send(ready=True)
                ready_at = time.monotonic()
        elif kind == "closed":
            break
    out.put(None)
    print(json.dumps({"seat": seat, "seconds_to_offer": waits, "offers": kinds}))


if __name__ == "__main__":
    main(
        sys.argv[1],
        sys.argv[2] if len(sys.argv) > 2 else "2001",
        int(sys.argv[3]) if len(sys.argv) > 3 else 3,
    )
