from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.strategy_param import StrategyParam


T = TypeVar("T", bound="Strategy")


@_attrs_define
class Strategy:
    """
    Attributes:
        name (str):
        description (str):
        params (list[str]): Its parameters' names
        parameters (list[StrategyParam]): Each parameter: type, default, choices, help
        objective (str): Its default objective (every strategy takes `objective`)
        objectives (list[str] | None): The only objectives it takes (null: every one; ans, which learns delays: latency)
    """

    name: str
    description: str
    params: list[str]
    parameters: list[StrategyParam]
    objective: str
    objectives: list[str] | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        description = self.description

        params = self.params

        parameters = []
        for parameters_item_data in self.parameters:
            parameters_item = parameters_item_data.to_dict()
            parameters.append(parameters_item)

        objective = self.objective

        objectives: list[str] | None
        if isinstance(self.objectives, list):
            objectives = self.objectives

        else:
            objectives = self.objectives

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "description": description,
                "params": params,
                "parameters": parameters,
                "objective": objective,
                "objectives": objectives,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.strategy_param import StrategyParam  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        description = d.pop("description")

        params = cast(list[str], d.pop("params"))

        parameters = []
        _parameters = d.pop("parameters")
        for parameters_item_data in _parameters:
            parameters_item = StrategyParam.from_dict(parameters_item_data)

            parameters.append(parameters_item)

        objective = d.pop("objective")

        def _parse_objectives(data: object) -> list[str] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                objectives_type_0 = cast(list[str], data)

                return objectives_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None, data)

        objectives = _parse_objectives(d.pop("objectives"))

        strategy = cls(
            name=name,
            description=description,
            params=params,
            parameters=parameters,
            objective=objective,
            objectives=objectives,
        )

        strategy.additional_properties = d
        return strategy

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
