"""A client that is not ours: Python grpcio, knowing nothing of the contract but what
the router's reflection service (v1alpha, as grpcio-reflection speaks it) tells it.

Usage: reflection_client.py HOST:PORT
Lists the services, builds the Login request from the descriptors it was sent, calls
it with a wrong password and checks the router's health; logs in as supervisor 2001 and
reads a report (a server stream of pages) and a refused one, the interval report with
its optional target, and the supervisors' stream's first update. Prints one JSON line.
"""

import json
import sys
import time

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
    boss = call(request(agent_id="2001", password="supervisor 2001 pw"), timeout=10)
    reports = pool.FindServiceByName("callcenter.v1.ReportService")
    tickets = reports.FindMethodByName("TicketReport")
    treq = message_factory.GetMessageClass(tickets.input_type)
    tpage = message_factory.GetMessageClass(tickets.output_type)
    report = channel.unary_stream(
        "/callcenter.v1.ReportService/TicketReport",
        request_serializer=treq.SerializeToString,
        response_deserializer=tpage.FromString,
    )
    auth = [("authorization", "Bearer " + boss.token)]
    now = int(time.time())
    asked = treq()
    getattr(asked.period, "from").seconds = now - 86400
    asked.period.to.seconds = now
    pages = list(report(asked, metadata=auth, timeout=10))
    backwards = treq()
    getattr(backwards.period, "from").seconds = now
    backwards.period.to.seconds = now - 86400
    try:
        list(report(backwards, metadata=auth, timeout=10))
        refused_code, refused_words = "OK", ""
    except grpc.RpcError as e:
        refused_code, refused_words = e.code().name, e.details()
    # the interval report with its optional target, and the fields added to its pages
    intervals = reports.FindMethodByName("IntervalReport")
    ireq = message_factory.GetMessageClass(intervals.input_type)
    ipage = message_factory.GetMessageClass(intervals.output_type)
    interval_report = channel.unary_stream(
        "/callcenter.v1.ReportService/IntervalReport",
        request_serializer=ireq.SerializeToString,
        response_deserializer=ipage.FromString,
    )
    iasked = ireq(target_service_level=0.9)
    getattr(iasked.period, "from").seconds = now - 86400
    iasked.period.to.seconds = now
    ipages = list(interval_report(iasked, metadata=auth, timeout=10))
    agent_row = pool.FindMessageTypeByName("callcenter.v1.AgentReportRow")
    # the supervisors' stream: its first update, with the area alarms standing
    supervisor = pool.FindServiceByName("callcenter.v1.SupervisorService")
    watch = supervisor.FindMethodByName("WatchStats")
    wreq = message_factory.GetMessageClass(watch.input_type)
    wupdate = message_factory.GetMessageClass(watch.output_type)
    stats = channel.unary_stream(
        "/callcenter.v1.SupervisorService/WatchStats",
        request_serializer=wreq.SerializeToString,
        response_deserializer=wupdate.FromString,
    )
    board = stats(wreq(), metadata=auth, timeout=10)
    first_update = next(board)
    board.cancel()
    area_alarm = pool.FindMessageTypeByName("callcenter.v1.AreaAlarm")
    # area incidents: a declaration for an area where nobody lives, and the list
    declare_m = supervisor.FindMethodByName("DeclareIncident")
    dreq = message_factory.GetMessageClass(declare_m.input_type)
    dresp = message_factory.GetMessageClass(declare_m.output_type)
    declare = channel.unary_unary(
        "/callcenter.v1.SupervisorService/DeclareIncident",
        request_serializer=dreq.SerializeToString,
        response_deserializer=dresp.FromString,
    )
    asked_incident = dreq(
        district="无此区",
        area="无此小区",
        kind="broadband-down",
        message_zh="光缆中断，正在抢修",
        message_en="a cable is cut",
    )
    asked_incident.expected_restore_at.seconds = now + 3600
    try:
        declare(asked_incident, metadata=auth, timeout=10)
        declare_code, declare_words = "OK", ""
    except grpc.RpcError as e:
        declare_code, declare_words = e.code().name, e.details()
    list_m = supervisor.FindMethodByName("ListIncidents")
    lreq = message_factory.GetMessageClass(list_m.input_type)
    lresp = message_factory.GetMessageClass(list_m.output_type)
    list_incidents = channel.unary_unary(
        "/callcenter.v1.SupervisorService/ListIncidents",
        request_serializer=lreq.SerializeToString,
        response_deserializer=lresp.FromString,
    )
    listed = list_incidents(lreq(open_only=True), metadata=auth, timeout=10)
    print(
        json.dumps(
            {
                "services": services,
                "report_pages": len(pages),
                "report_last": pages[-1].last if pages else False,
                "refused_code": refused_code,
                "refused_words": refused_words,
                "interval_pages": len(ipages),
                "interval_page_fields": sorted(ipage.DESCRIPTOR.fields_by_name),
                "interval_target_set": iasked.HasField("target_service_level"),
                "agent_row_fields": sorted(agent_row.fields_by_name),
                "stats_queues": len(first_update.queues),
                "stats_area_alarms": len(first_update.area_alarms),
                "area_alarm_fields": sorted(area_alarm.fields_by_name),
                "stats_has_incidents": first_update.HasField("incidents"),
                "declare_code": declare_code,
                "declare_words": declare_words,
                "incidents_open": len(listed.incidents),
                "incident_fields": sorted(
                    pool.FindMessageTypeByName("callcenter.v1.Incident").fields_by_name
                ),
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
