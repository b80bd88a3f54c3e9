"""A client that is not ours: Python grpcio, knowing nothing of the contract but what
the router's reflection service (v1alpha, as grpcio-reflection speaks it) tells it.

Usage: reflection_client.py HOST:PORT
Lists the services, builds the Login request from the descriptors it was sent, calls
it with a wrong password and checks the router's health. Prints one JSON line.
"""

import json
import sys

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def main(addr):
    channel = grpc.insecure_channel(addr)
    grpc.channel_ready_future(channel).result(timeout=10)
    db = ProtoReflectionDescriptorDatabase(channel)
    services = sorted(db.get_services())
    pool = descriptor_pool.DescriptorPool(db)
    agent = pool.FindServiceByName("callcenter.v1.AgentService")
    login = agent.FindMethodByName("Login")
    request = message_factory.GetMessageClass(login.input_type)
    response = message_factory.GetMessageClass(login.output_type)
    call = channel.unary_unary(
        "/callcenter.v1.AgentService/Login",
        request_serializer=request.SerializeToString,
        response_deserializer=response.FromString,
    )
    try:
        call(request(agent_id="1001", password="not the password"), timeout=10)
        login_code, login_words = "OK", ""
    except grpc.RpcError as e:
        login_code, login_words = e.code().name, e.details()
    health = pool.FindServiceByName("grpc.health.v1.Health").FindMethodByName("Check")
    hreq = message_factory.GetMessageClass(health.input_type)
    hresp = message_factory.GetMessageClass(health.output_type)
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=hreq.SerializeToString,
        response_deserializer=hresp.FromString,
    )
    status = check(hreq(service="callcenter.v1.AgentService"), timeout=10)
    store = check(hreq(service="hotline.store"), timeout=10)
    print(
        json.dumps(
            {
                "services": services,
                "login_code": login_code,
                "login_words": login_words,
                "health": hresp.DESCRIPTOR.fields_by_name["status"]
                .enum_type.values_by_number[status.status]
                .name,
                "store_health": hresp.DESCRIPTOR.fields_by_name["status"]
                .enum_type.values_by_number[store.status]
                .name,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
