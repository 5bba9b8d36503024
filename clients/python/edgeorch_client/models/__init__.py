"""Contains all the data models used in inputs/outputs"""

from .agent_enroll_request import AgentEnrollRequest
from .agent_enroll_request_inventory import AgentEnrollRequestInventory
from .alert import Alert
from .alert_rule_kind import AlertRuleKind
from .alert_state import AlertState
from .alternative import Alternative
from .budget import Budget
from .budget_change import BudgetChange
from .budget_edge import BudgetEdge
from .compute_unit import ComputeUnit
from .cut_kind import CutKind
from .cut_point import CutPoint
from .cut_sweep_request import CutSweepRequest
from .cut_tensor import CutTensor
from .dashboard_device_response_200 import DashboardDeviceResponse200
from .dashboard_fleet_response_200 import DashboardFleetResponse200
from .dashboard_users_response_200 import DashboardUsersResponse200
from .deployment_topology import DeploymentTopology
from .deployment_topology_deployment import DeploymentTopologyDeployment
from .deployment_topology_run_type_0 import DeploymentTopologyRunType0
from .deployment_topology_runs_item import DeploymentTopologyRunsItem
from .device import Device
from .device_energy import DeviceEnergy
from .device_list_ordering import DeviceListOrdering
from .device_list_role import DeviceListRole
from .device_list_status import DeviceListStatus
from .device_liveness import DeviceLiveness
from .device_profile import DeviceProfile
from .device_ref import DeviceRef
from .device_role import DeviceRole
from .device_status import DeviceStatus
from .devices_telemetry_export_format import DevicesTelemetryExportFormat
from .devices_telemetry_export_response_200 import DevicesTelemetryExportResponse200
from .energy import Energy
from .enrollment import Enrollment
from .enrollment_token import EnrollmentToken
from .enrollment_token_created import EnrollmentTokenCreated
from .enrollment_token_request import EnrollmentTokenRequest
from .error import Error
from .failover_policy import FailoverPolicy
from .feedback_request import FeedbackRequest
from .feedback_result import FeedbackResult
from .frame import Frame
from .frame_export import FrameExport
from .frame_export_trace_item import FrameExportTraceItem
from .graph_block import GraphBlock
from .graph_cut import GraphCut
from .graph_edge import GraphEdge
from .graph_node import GraphNode
from .graph_node_kind import GraphNodeKind
from .input_kind import InputKind
from .job import Job
from .job_create_request import JobCreateRequest
from .job_detail import JobDetail
from .job_export_format import JobExportFormat
from .job_upload_request import JobUploadRequest
from .latency_percentiles import LatencyPercentiles
from .link import Link
from .link_override_request import LinkOverrideRequest
from .link_probe_receipt import LinkProbeReceipt
from .measured_times import MeasuredTimes
from .measurement import Measurement
from .measurement_kind import MeasurementKind
from .measurement_state import MeasurementState
from .ml_model import MLModel
from .ml_model_detail import MLModelDetail
from .model_graph import ModelGraph
from .model_ref import ModelRef
from .model_source import ModelSource
from .model_task import ModelTask
from .model_upload_request import ModelUploadRequest
from .objective import Objective
from .output_summary import OutputSummary
from .overrides_request import OverridesRequest
from .overrides_request_queue import OverridesRequestQueue
from .overrides_request_throttle import OverridesRequestThrottle
from .paginated_alert_list import PaginatedAlertList
from .paginated_device_list import PaginatedDeviceList
from .paginated_enrollment_token_list import PaginatedEnrollmentTokenList
from .paginated_frame_list import PaginatedFrameList
from .paginated_job_list import PaginatedJobList
from .paginated_measurement_list import PaginatedMeasurementList
from .paginated_ml_model_list import PaginatedMLModelList
from .paginated_rule_list import PaginatedRuleList
from .paginated_session_list import PaginatedSessionList
from .patched_device_request import PatchedDeviceRequest
from .patched_rule_request import PatchedRuleRequest
from .placement import Placement
from .plan import Plan
from .plan_switch import PlanSwitch
from .planned_device import PlannedDevice
from .planned_device_power_type_0 import PlannedDevicePowerType0
from .planned_link import PlannedLink
from .predicted_times import PredictedTimes
from .predictor_report import PredictorReport
from .preprocess_request import PreprocessRequest
from .priority import Priority
from .priority_counts import PriorityCounts
from .profile_power import ProfilePower
from .profile_run_request import ProfileRunRequest
from .profile_thermal import ProfileThermal
from .profile_unit import ProfileUnit
from .rule import Rule
from .rule_request import RuleRequest
from .run_energy import RunEnergy
from .run_state import RunState
from .segment import Segment
from .segment_manifest import SegmentManifest
from .session import Session
from .session_create_request import SessionCreateRequest
from .session_detail import SessionDetail
from .session_detail_failures_item import SessionDetailFailuresItem
from .session_export_format import SessionExportFormat
from .session_summary import SessionSummary
from .session_summary_by_priority import SessionSummaryByPriority
from .session_summary_configs import SessionSummaryConfigs
from .stage import Stage
from .stage_row import StageRow
from .stage_times import StageTimes
from .strategy import Strategy
from .strategy_param import StrategyParam
from .sweep import Sweep
from .sweep_cut import SweepCut
from .telemetry_point import TelemetryPoint
from .telemetry_series import TelemetrySeries
from .topology import Topology
from .topology_device import TopologyDevice
from .topology_hop import TopologyHop
from .topology_hop_kind import TopologyHopKind
from .topology_hop_link_type_0 import TopologyHopLinkType0
from .topology_run import TopologyRun
from .topology_stage import TopologyStage
from .topology_stage_measured_type_0 import TopologyStageMeasuredType0
from .topology_stage_predicted import TopologyStagePredicted
from .trace_stage import TraceStage
from .variant_kind import VariantKind
from .variant_request import VariantRequest
from .what_if_request import WhatIfRequest

__all__ = (
    "AgentEnrollRequest",
    "AgentEnrollRequestInventory",
    "Alert",
    "AlertRuleKind",
    "AlertState",
    "Alternative",
    "Budget",
    "BudgetChange",
    "BudgetEdge",
    "ComputeUnit",
    "CutKind",
    "CutPoint",
    "CutSweepRequest",
    "CutTensor",
    "DashboardDeviceResponse200",
    "DashboardFleetResponse200",
    "DashboardUsersResponse200",
    "DeploymentTopology",
    "DeploymentTopologyDeployment",
    "DeploymentTopologyRunsItem",
    "DeploymentTopologyRunType0",
    "Device",
    "DeviceEnergy",
    "DeviceListOrdering",
    "DeviceListRole",
    "DeviceListStatus",
    "DeviceLiveness",
    "DeviceProfile",
    "DeviceRef",
    "DeviceRole",
    "DeviceStatus",
    "DevicesTelemetryExportFormat",
    "DevicesTelemetryExportResponse200",
    "Energy",
    "Enrollment",
    "EnrollmentToken",
    "EnrollmentTokenCreated",
    "EnrollmentTokenRequest",
    "Error",
    "FailoverPolicy",
    "FeedbackRequest",
    "FeedbackResult",
    "Frame",
    "FrameExport",
    "FrameExportTraceItem",
    "GraphBlock",
    "GraphCut",
    "GraphEdge",
    "GraphNode",
    "GraphNodeKind",
    "InputKind",
    "Job",
    "JobCreateRequest",
    "JobDetail",
    "JobExportFormat",
    "JobUploadRequest",
    "LatencyPercentiles",
    "Link",
    "LinkOverrideRequest",
    "LinkProbeReceipt",
    "MeasuredTimes",
    "Measurement",
    "MeasurementKind",
    "MeasurementState",
    "MLModel",
    "MLModelDetail",
    "ModelGraph",
    "ModelRef",
    "ModelSource",
    "ModelTask",
    "ModelUploadRequest",
    "Objective",
    "OutputSummary",
    "OverridesRequest",
    "OverridesRequestQueue",
    "OverridesRequestThrottle",
    "PaginatedAlertList",
    "PaginatedDeviceList",
    "PaginatedEnrollmentTokenList",
    "PaginatedFrameList",
    "PaginatedJobList",
    "PaginatedMeasurementList",
    "PaginatedMLModelList",
    "PaginatedRuleList",
    "PaginatedSessionList",
    "PatchedDeviceRequest",
    "PatchedRuleRequest",
    "Placement",
    "Plan",
    "PlannedDevice",
    "PlannedDevicePowerType0",
    "PlannedLink",
    "PlanSwitch",
    "PredictedTimes",
    "PredictorReport",
    "PreprocessRequest",
    "Priority",
    "PriorityCounts",
    "ProfilePower",
    "ProfileRunRequest",
    "ProfileThermal",
    "ProfileUnit",
    "Rule",
    "RuleRequest",
    "RunEnergy",
    "RunState",
    "Segment",
    "SegmentManifest",
    "Session",
    "SessionCreateRequest",
    "SessionDetail",
    "SessionDetailFailuresItem",
    "SessionExportFormat",
    "SessionSummary",
    "SessionSummaryByPriority",
    "SessionSummaryConfigs",
    "Stage",
    "StageRow",
    "StageTimes",
    "Strategy",
    "StrategyParam",
    "Sweep",
    "SweepCut",
    "TelemetryPoint",
    "TelemetrySeries",
    "Topology",
    "TopologyDevice",
    "TopologyHop",
    "TopologyHopKind",
    "TopologyHopLinkType0",
    "TopologyRun",
    "TopologyStage",
    "TopologyStageMeasuredType0",
    "TopologyStagePredicted",
    "TraceStage",
    "VariantKind",
    "VariantRequest",
    "WhatIfRequest",
)
